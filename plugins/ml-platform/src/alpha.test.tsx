import { renderTestApp } from '@backstage/frontend-test-utils';
import { screen } from '@testing-library/react';
import plugin from './alpha';
import { mlPlatformApiRef } from './api';

describe('ml-platform frontend plugin (new frontend system)', () => {
  it('mounts the ML Platform page at /ml-platform', async () => {
    renderTestApp({
      features: [plugin],
      initialRouteEntries: ['/ml-platform'],
      apis: [[mlPlatformApiRef, { listModels: async () => [] }]],
    });
    expect(await screen.findByText('No models yet')).toBeInTheDocument();
  });
});
