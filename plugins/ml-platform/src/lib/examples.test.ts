import { cliExample, curlExample, sdkExample } from './examples';

describe('curlExample', () => {
  it('quotes single quotes in the body for the shell', () => {
    const curl = curlExample('https://x/predict', { name: "O'Brien" });
    expect(curl).toContain(`-d '{"name":"O'\\''Brien"}'`);
  });
});

describe('client examples', () => {
  const fields = [
    { name: 'note', type: 'string' as const },
    { name: 'ok', type: 'boolean' as const },
  ];

  it('writes the mlp command with the row quoted for the shell', () => {
    expect(cliExample('team-a/churn', fields)).toBe(
      `mlp predict team-a/churn -d '[{"note":"","ok":false}]'`,
    );
  });

  it('writes the SDK call as Python', () => {
    expect(sdkExample('https://p', 'churn', fields).split('\n').at(-1)).toBe(
      'client.predict("churn", [{"note": "", "ok": False}])',
    );
  });
});
