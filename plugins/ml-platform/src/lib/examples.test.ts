import { curlExample } from './examples';

describe('curlExample', () => {
  it('quotes single quotes in the body for the shell', () => {
    const curl = curlExample('https://x/predict', { name: "O'Brien" });
    expect(curl).toContain(`-d '{"name":"O'\\''Brien"}'`);
  });
});
