import '@testing-library/jest-dom';
import { coreExtensionData } from '@backstage/frontend-plugin-api';
import {
  createExtensionTester,
  renderInTestApp,
  renderTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { screen } from '@testing-library/react';
import plugin, { mlPlatformEntityContent } from './alpha';
import { mlPlatformApiRef } from './api';
import { churnEntity, mockMlPlatformApi, summary } from './__testUtils__';

describe('ml-platform frontend plugin (new frontend system)', () => {
  it('mounts the ML Platform page at /ml-platform', async () => {
    renderTestApp({
      features: [plugin],
      initialRouteEntries: ['/ml-platform'],
      apis: [[mlPlatformApiRef, { listModels: async () => [] }]],
    });
    expect(await screen.findByText('No models yet')).toBeInTheDocument();
  });

  it('provides the ML Platform entity tab at ml-platform, for ml-model components only', () => {
    expect(plugin.getExtension('entity-content:ml-platform')).toBeDefined();
    const tester = createExtensionTester(mlPlatformEntityContent);
    expect(tester.get(coreExtensionData.routePath)).toBe('ml-platform');
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe(
      'ML Platform',
    );
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction)!;
    expect(filter(churnEntity)).toBe(true);
    expect(
      filter({
        ...churnEntity,
        spec: { ...churnEntity.spec, type: 'service' },
      }),
    ).toBe(false);
    expect(filter({ ...churnEntity, kind: 'Resource' })).toBe(false);
  });

  it('renders the model sections in the tab', async () => {
    const api = mockMlPlatformApi({
      getModel: async () => summary(),
      listExecutions: async () => [],
    });
    const tester = createExtensionTester(mlPlatformEntityContent);
    await renderInTestApp(
      <EntityProvider entity={churnEntity}>
        {tester.reactElement()}
      </EntityProvider>,
      { apis: [[mlPlatformApiRef, api]] },
    );
    expect(
      await screen.findByRole('tab', { name: 'Try it' }),
    ).toBeInTheDocument();
    expect(await screen.findByText('Never built.')).toBeInTheDocument();
  });
});
