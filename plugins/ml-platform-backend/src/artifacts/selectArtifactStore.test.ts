import { LocalArtifactStore } from '@internal/plugin-ml-platform-node';
import { selectArtifactStore } from './selectArtifactStore';

const config = (type: string) => ({
  dataDir: '/tmp/d',
  artifacts: { type, localDir: '/tmp/d/artifacts' },
});

describe('selectArtifactStore', () => {
  it('defaults to the local store in the configured directory', async () => {
    const store = selectArtifactStore(config('local'), []);
    expect(store).toBeInstanceOf(LocalArtifactStore);
  });

  it('uses a store a module added', () => {
    const s3 = new LocalArtifactStore('/tmp/other');
    Object.defineProperty(s3, 'type', { value: 's3' });
    expect(selectArtifactStore(config('s3'), [s3])).toBe(s3);
  });

  it('names the available stores when the configured one is missing', () => {
    expect(() => selectArtifactStore(config('gcs'), [])).toThrow(
      'mlPlatform.artifacts.type is "gcs", but no artifact store of that type is installed; available: local',
    );
  });
});
