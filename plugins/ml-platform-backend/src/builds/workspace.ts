import fs from 'node:fs';
import path from 'node:path';
import { Sandbox } from '../sandbox/Sandbox';

/**
 * Files of a build on this host. The root belongs to the backend; what
 * model code writes (`repo`, `venv`, `home`, `smokeOut`) belongs to the
 * sandbox user, and the backend never writes there.
 */
export function buildWorkspace(workDir: string, buildId: string) {
  const root = path.join(workDir, 'builds', buildId);
  return {
    root,
    repo: path.join(root, 'repo'),
    /** Link to the model directory inside the checkout, once built. */
    model: path.join(root, 'model'),
    venv: path.join(root, 'venv'),
    python: path.join(root, 'venv', 'bin', 'python'),
    /** HOME (and TMPDIR) of the build's commands. */
    home: path.join(root, 'home'),
    schemaFile: path.join(root, 'schema.json'),
    /** The smoke prediction's input, written by the backend. */
    smokeDir: path.join(root, 'smoke'),
    /** Its output, written by the model. */
    smokeOut: path.join(root, 'smoke-out'),
  };
}

/** The files of one build on this host. */
export type BuildWorkspace = ReturnType<typeof buildWorkspace>;

/**
 * Whether `dir` was made for the current sandbox user (a build from before,
 * e.g. made as root, is unpacked again instead).
 */
export async function madeInSandbox(
  sandbox: Pick<Sandbox, 'uid'>,
  dir: string,
): Promise<boolean> {
  const { uid } = sandbox;
  if (uid === undefined) return true;
  const stat = await fs.promises.stat(dir).catch(() => undefined);
  return stat?.uid === uid;
}

/**
 * A succeeded build's model, venv and schema as its build left them on this
 * host, or undefined when they are not here (another host built it, or it
 * was made for another sandbox user).
 */
export async function builtOnThisHost(
  sandbox: Pick<Sandbox, 'uid' | 'workDir'>,
  buildId: string,
): Promise<
  { modelDir: string; python: string; schemaFile: string } | undefined
> {
  const ws = buildWorkspace(sandbox.workDir, buildId);
  if (
    fs.existsSync(ws.model) &&
    fs.existsSync(ws.python) &&
    (await madeInSandbox(sandbox, ws.repo))
  ) {
    return { modelDir: ws.model, python: ws.python, schemaFile: ws.schemaFile };
  }
  return undefined;
}
