import path from 'node:path';

/**
 * The real modules of `@backstage/plugin-events-backend-module-github`
 * (push routing and webhook signature checks). Its default export loads them
 * with a dynamic import(), which Jest's VM cannot run, so tests load the
 * module files themselves.
 */
export function githubEventsModules() {
  const dist = path.join(
    path.dirname(
      require.resolve(
        '@backstage/plugin-events-backend-module-github/package.json',
      ),
    ),
    'dist',
    'service',
  );
  return [
    require(path.join(dist, 'eventsModuleGithubEventRouter.cjs.js')).default,
    require(path.join(dist, 'eventsModuleGithubWebhook.cjs.js')).default,
  ];
}
