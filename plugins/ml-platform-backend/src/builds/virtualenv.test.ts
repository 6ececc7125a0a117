import { baseInterpreter } from './virtualenv';

describe('baseInterpreter', () => {
  const config = {
    python: 'python3',
    builds: { allowedPythons: ['/usr/bin/python3', 'python3.11'] },
  } as any;
  // The sandbox resolves interpreters on its PATH.
  const sandbox = {
    python: '/usr/local/bin/python3',
    resolveInterpreter: (command: string) =>
      command.startsWith('/') ? command : `/usr/bin/${command}`,
  };

  it('uses mlPlatform.python unless the manifest names an allowed interpreter', () => {
    expect(baseInterpreter(config, sandbox)).toEqual({
      python: '/usr/local/bin/python3',
    });
    expect(baseInterpreter(config, sandbox, 'python3')).toEqual({
      python: '/usr/local/bin/python3',
    });
    expect(baseInterpreter(config, sandbox, '/usr/bin/python3')).toEqual({
      python: '/usr/bin/python3',
    });
    expect(baseInterpreter(config, sandbox, 'python3.11')).toEqual({
      python: '/usr/bin/python3.11',
    });
  });

  it('refuses any other interpreter, naming the field and what is allowed', () => {
    expect(baseInterpreter(config, sandbox, '/tmp/python3')).toEqual({
      error:
        'spec.python: /tmp/python3 is not an interpreter this platform allows (mlPlatform.builds.allowedPythons: python3, /usr/bin/python3, python3.11)',
    });
  });
});
