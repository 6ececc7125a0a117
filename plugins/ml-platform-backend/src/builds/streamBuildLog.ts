import { Response } from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { BuildService } from './BuildService';
import { startTextStream } from '../http/textStream';

const FINISHED = ['succeeded', 'failed', 'cancelled'];

/**
 * Answers `GET builds/{id}/logs`: the whole log as text (or JSON lines after
 * an id); with `follow`, keeps the response open and streams new lines until
 * the build ends or the client goes away.
 */
export async function streamBuildLog(options: {
  builds: BuildService;
  buildId: string;
  follow: boolean;
  after?: number;
  format: 'text' | 'json';
  /** The request, to stop when its client goes away. */
  req: { on(event: 'close', listener: () => void): unknown };
  res: Response;
  pollMs?: number;
}) {
  const { builds, buildId, res } = options;
  let lastId = options.after ?? 0;
  const read = async () => {
    const lines = await builds.readLog(buildId, lastId);
    if (lines.length) lastId = lines[lines.length - 1].id;
    return lines;
  };

  if (options.format === 'json') {
    const lines = await read();
    const build = await builds.getBuildUnchecked(buildId);
    res.json({
      items: lines,
      lastId,
      finished: FINISHED.includes(build.status),
    });
    return;
  }

  startTextStream(res);
  const write = (lines: { line: string }[]) => {
    if (lines.length) res.write(`${lines.map(l => l.line).join('\n')}\n`);
  };
  write(await read());
  if (!options.follow) {
    res.end();
    return;
  }

  let closed = false;
  options.req.on('close', () => {
    closed = true;
  });
  res.flushHeaders();
  while (!closed) {
    const build = await builds.getBuildUnchecked(buildId);
    write(await read());
    if (FINISHED.includes(build.status)) break;
    await sleep(options.pollMs ?? 500);
  }
  write(await read());
  res.end();
}
