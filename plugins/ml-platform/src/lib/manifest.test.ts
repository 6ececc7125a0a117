import { build, churnInputs, churnManifest } from '../__testUtils__';
import { inputFieldsOf } from './manifest';

describe('inputFieldsOf', () => {
  it('reads the inputs from the build’s typed manifest', () => {
    expect(inputFieldsOf(build(2, { manifest: churnManifest }))).toEqual(
      churnInputs,
    );
  });

  it('is undefined without a build, a manifest or declared inputs', () => {
    expect(inputFieldsOf(undefined)).toBeUndefined();
    expect(inputFieldsOf(build(2))).toBeUndefined();
    expect(
      inputFieldsOf(
        build(2, {
          manifest: {
            ...churnManifest,
            spec: {
              ...churnManifest.spec,
              schema: { inputs: [], outputs: [] },
            },
          },
        }),
      ),
    ).toBeUndefined();
  });
});
