import { baseInterpreter } from './virtualenv';

describe('baseInterpreter', () => {
  const config = {
    python: 'python3',
    builds: { allowedPythons: ['/usr/bin/python3'] },
  } as any;

  it('uses mlPlatform.python unless the manifest names an allowed interpreter', () => {
    expect(baseInterpreter(config)).toEqual({ python: 'python3' });
    expect(baseInterpreter(config, 'python3')).toEqual({ python: 'python3' });
    expect(baseInterpreter(config, '/usr/bin/python3')).toEqual({
      python: '/usr/bin/python3',
    });
  });

  it('refuses any other interpreter, naming the field and what is allowed', () => {
    expect(baseInterpreter(config, '/tmp/python3')).toEqual({
      error:
        'spec.python: /tmp/python3 is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: python3, /usr/bin/python3)',
    });
  });
});
