import { mockServices } from '@backstage/backend-test-utils';
import { Runtime } from '@internal/plugin-ml-platform-node';
import { BuildPackages } from './BuildPackages';
import { Reconciler } from './Reconciler';

describe('Reconciler', () => {
  it('writes each deployment’s last request once, at its time, and nothing when there was none', async () => {
    const written: Map<string, Date>[] = [];
    const deployments = {
      noteDeploymentRequests: async (requests: Map<string, Date>) => {
        written.push(requests);
      },
      listDeploymentRecords: async () => [],
      heartbeatDeployments: async () => {},
    };
    const reconciler = new Reconciler({
      // reconcileAll with no deployments reads and writes only these three.
      stores: { deployments, builds: {} } as any,
      runtime: { listOnline: () => [] } as unknown as Runtime,
      packages: {} as BuildPackages,
      logger: mockServices.logger.mock(),
      scaleToZeroAfterMs: 60_000,
      claimStaleAfterMs: 60_000,
    });
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(1_000);
      reconciler.noteRequest('d-1');
      clock.mockReturnValue(2_000);
      reconciler.noteRequest('d-2');
      clock.mockReturnValue(3_000);
      reconciler.noteRequest('d-1');
      await reconciler.reconcileAll();
      await reconciler.reconcileAll();
      clock.mockReturnValue(4_000);
      reconciler.noteRequest('d-2');
      await reconciler.reconcileAll();
    } finally {
      clock.mockRestore();
    }
    expect(written).toEqual([
      new Map([
        ['d-1', new Date(3_000)],
        ['d-2', new Date(2_000)],
      ]),
      new Map([['d-2', new Date(4_000)]]),
    ]);
  });
});
