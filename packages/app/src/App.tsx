import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import { navModule } from './modules/nav';

// Plugins listed in package.json are discovered through `app.packages: all`;
// the catalog is named here because the nav module refers to its pages.
export default createApp({
  features: [catalogPlugin, navModule],
});
