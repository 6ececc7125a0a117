#!/usr/bin/env node
// End-to-end UI test of the ML platform: starts the whole portal as users do
// (`backstage-cli repo start` on the embedded defaults of app-config.yaml plus
// app-config.e2e.yaml: frontend on :3100, backend on :7107, in-memory SQLite,
// platform files in a fresh temporary directory) and drives a real headless
// Chromium through what a first-time user does on the churn model's page:
// sign in as guest, build the main branch, deploy the build online and as a
// batch model, predict from the "Try it" form, score an uploaded CSV, see it
// all in the Activity section, send traffic and read it on the Monitoring
// tab, silence the manifest's alert rule in its Alerts section, find the
// calls and batch chunks on the Events tab and search the build log on the
// Logs tab. It saves
// a screenshot of each section to e2e/screenshots/ and fails on browser errors
// (uncaught exceptions, console errors other than React dev warnings) and on
// backend errors logged while the flow runs.
//
//   yarn workspace app test:e2e        (from the repository root)
//
// Needs /usr/bin/chromium (or E2E_CHROMIUM=<path>), python3 and git. Exits 0
// when every step passed; otherwise non-zero, naming the failing step, with
// e2e/screenshots/failure.png and the tail of the portal's log.
/* eslint-disable no-console */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// require(), not import: it honours NODE_PATH, which lets the test run
// against a playwright-core installed outside the workspace.
const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(E2E_DIR, '../../..');
const OVERLAY = path.join(E2E_DIR, 'app-config.e2e.yaml');
const SCREENSHOTS = path.join(E2E_DIR, 'screenshots');
const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';
const FRONTEND_PORT = 3100;
const BACKEND_PORT = 7107;
const FRONTEND = `http://localhost:${FRONTEND_PORT}`;
const BACKEND = `http://localhost:${BACKEND_PORT}`;
const MODEL_PAGE = `${FRONTEND}/catalog/default/component/churn`;
const BATCH_ROWS = 50;
// Calls sent for the Monitoring tab, and how many of them the model refuses.
const MONITORED_CALLS = 90;
const MONITORED_ERRORS = 6;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const TIMEOUTS = {
  portalStart: 4 * MINUTE,
  portalStop: 20 * SECOND,
  // The catalog reads the example entities some seconds after the start.
  entityIngested: 2 * MINUTE,
  ui: 30 * SECOND,
  build: 2 * MINUTE,
  deployReady: 90 * SECOND,
  prediction: 45 * SECOND,
  execution: 2 * MINUTE,
  // The recorder flushes every second here; the tab refreshes every 15 s.
  metrics: 45 * SECOND,
};

// ---------------------------------------------------------------------------
// Small helpers

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const seconds = ms => `${(ms / SECOND).toFixed(1)} s`;
const log = message =>
  console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${message}`);

/** A failure that should stop waiting at once (e.g. the build failed). */
class StepFailure extends Error {}

const firstLine = text => String(text).split('\n')[0];
const oneLine = text =>
  String(text ?? '')
    .replace(/\s+/g, ' ')
    .trim();
const ANSI_COLOR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
const stripAnsi = text => text.replace(ANSI_COLOR, '');

class TimeoutError extends Error {}

/**
 * Calls `probe` every `intervalMs` until it returns something truthy, which
 * it returns; fails after `timeoutMs` naming what it waited for and what was
 * last seen (the `lastSeen()` answer, else the probe's last error). A
 * StepFailure thrown by the probe ends the wait at once.
 */
async function until(
  what,
  timeoutMs,
  probe,
  { intervalMs = 1000, lastSeen } = {},
) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
      lastError = undefined;
    } catch (e) {
      if (e instanceof StepFailure) throw e;
      lastError = e;
    }
    if (Date.now() >= deadline) {
      let seen = lastError ? `last error: ${firstLine(lastError.message)}` : '';
      if (lastSeen) {
        try {
          seen = `last seen: ${await lastSeen()}`;
        } catch {
          // Keep the error, if any.
        }
      }
      throw new TimeoutError(
        `Timed out after ${seconds(timeoutMs)} waiting for ${what}${
          seen ? ` (${seen})` : ''
        }`,
      );
    }
    await sleep(intervalMs);
  }
}

function portIsFree(port) {
  return new Promise(resolve => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function httpStatus(url, timeoutMs = 10 * SECOND) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

/** `n` churn rows, the same on every run. */
function churnCsv(n) {
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const contracts = ['month-to-month', 'one-year', 'two-year'];
  const lines = [
    'tenure_months,monthly_charges,total_charges,contract,support_calls,has_internet',
  ];
  for (let i = 0; i < n; i++) {
    const tenure = 1 + Math.floor(random() * 72);
    const monthly = Math.round((20 + random() * 100) * 100) / 100;
    const total = Math.round(tenure * monthly * 100) / 100;
    const contract = contracts[i % contracts.length];
    const calls = Math.floor(random() * 6);
    const internet = random() < 0.6 ? 'true' : 'false';
    lines.push([tenure, monthly, total, contract, calls, internet].join(','));
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// The portal: `backstage-cli repo start` in its own process group

class Portal {
  constructor({ logFile, dataDir }) {
    this.logFile = logFile;
    this.dataDir = dataDir;
    this.logOffset = 0;
    this.restarts = 0;
  }

  start() {
    const out = fs.openSync(this.logFile, 'a');
    // `repo start` hands --config to each package's start; both resolve
    // relative paths against the package directory (packages/app,
    // packages/backend), so the defaults are ../../app-config.yaml and the
    // overlay is passed as an absolute path.
    this.child = spawn(
      'yarn',
      [
        'backstage-cli',
        'repo',
        'start',
        '--config',
        '../../app-config.yaml',
        '--config',
        OVERLAY,
      ],
      {
        cwd: REPO_ROOT,
        detached: true, // its own process group: one kill stops yarn, the CLI, frontend and backend
        stdio: ['ignore', out, out], // no stdin: the backend dev server restarts on stdin input
        env: {
          ...process.env,
          MLP_E2E_DATA_DIR: this.dataDir,
          BROWSER: 'none', // the frontend dev server would open a browser
        },
      },
    );
    fs.closeSync(out);
    // Last resort, e.g. on an uncaught exception: never leave the portal running.
    process.on('exit', () => {
      if (!this.stopped) signalGroup(this.child.pid, 'SIGKILL');
    });
    this.exited = new Promise(resolve =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.child.once('exit', (code, signal) => {
      this.exitStatus = { code, signal };
    });
  }

  async waitUntilUp() {
    const deadline = Date.now() + TIMEOUTS.portalStart;
    const probe = async () => {
      if (this.exitStatus) {
        throw new StepFailure(
          `the portal exited early (${JSON.stringify(this.exitStatus)})`,
        );
      }
      // The frontend answers once its bundle is compiled.
      const [backend, frontend] = await Promise.all([
        httpStatus(`${BACKEND}/api/ml-platform/models`),
        httpStatus(
          FRONTEND,
          Math.max(SECOND, Math.min(60 * SECOND, deadline - Date.now())),
        ),
      ]);
      this.lastProbe = `backend ${backend ?? 'down'}, frontend ${
        frontend ?? 'down'
      }`;
      return backend === 401 && frontend === 200;
    };
    await until(
      `the backend (GET ${BACKEND}/api/ml-platform/models → 401) and the frontend (GET ${FRONTEND} → 200)`,
      TIMEOUTS.portalStart,
      probe,
      {
        intervalMs: 2 * SECOND,
        lastSeen: async () => this.lastProbe ?? 'nothing yet',
      },
    );
  }

  /** New log lines since the last call. */
  newLogLines() {
    let text = '';
    try {
      const fd = fs.openSync(this.logFile, 'r');
      const size = fs.fstatSync(fd).size;
      if (size > this.logOffset) {
        const buffer = Buffer.alloc(size - this.logOffset);
        fs.readSync(fd, buffer, 0, buffer.length, this.logOffset);
        this.logOffset = size;
        text = buffer.toString('utf8');
      }
      fs.closeSync(fd);
    } catch {
      return [];
    }
    return stripAnsi(text).split('\n').filter(Boolean);
  }

  /** The last lines of the log, without the request log, cut to a readable width. */
  tail(lines = 40) {
    try {
      return stripAnsi(fs.readFileSync(this.logFile, 'utf8'))
        .split('\n')
        .filter(
          line =>
            line && !/rootHttpRouter info .*type="incomingRequest"/.test(line),
        )
        .slice(-lines)
        .map(line => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
        .join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the whole process group, then whatever it started that left the group. */
  async stop() {
    if (this.child?.pid && !this.exitStatus) {
      signalGroup(this.child.pid, 'SIGTERM');
      const stopped = await Promise.race([
        this.exited.then(() => true),
        sleep(TIMEOUTS.portalStop).then(() => false),
      ]);
      if (!stopped)
        log('the portal did not stop on SIGTERM; killing its process group');
    }
    // Members of the group still running after its leader exited, and build
    // steps, which run in process groups of their own: they are ours when
    // their command line names this run's data directory.
    const leftovers = new Set([
      ...(this.child?.pid ? groupMembers(this.child.pid) : []),
      ...processesMentioning(this.dataDir),
    ]);
    for (const pid of leftovers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    this.stopped = true;
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch {
    // No such group any more.
  }
}

/** Processes of the process group `pgid`. */
function groupMembers(pgid) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) pids.push(Number(entry));
    } catch {
      // Gone.
    }
  }
  return pids;
}

function processesMentioning(text) {
  const pids = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

// ---------------------------------------------------------------------------
// Errors seen while the flow runs

// React development warnings (console.error in dev builds), not failures.
const IGNORED_CONSOLE = [
  /^Warning: .*defaultProps/s,
  /^Warning: findDOMNode is deprecated/,
  /^Warning: validateDOMNesting/,
  /^Warning: Each child in a list should have a unique "key" prop/,
];

// Backend errors that are not the platform's: Backstage's user-settings and
// permission backends log a 500 "stream is not readable" when the browser
// abandons a request (a page navigation while user settings or a permission
// check load; body-parser finds the request gone). The request is gone, so
// nothing the user sees failed.
const IGNORED_BACKEND = [
  /^\[(user-settings|permission)\].*stream is not readable/,
];

class ErrorWatch {
  constructor(portal) {
    this.portal = portal;
    this.browser = [];
    this.backend = [];
  }

  attach(page) {
    page.on('pageerror', error =>
      this.browser.push(
        `uncaught exception: ${firstLine(error.stack ?? error.message)}`,
      ),
    );
    page.on('console', message => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (IGNORED_CONSOLE.some(re => re.test(text))) return;
      const where = message.location()?.url;
      // While the catalog has not read the entity yet, its page 404s.
      if (
        this.entityWarmup &&
        /^Failed to load resource: .* 404/.test(text) &&
        where?.includes('/api/catalog/entities/by-name/')
      )
        return;
      this.browser.push(
        `console error: ${firstLine(text)}${where ? ` (${where})` : ''}`,
      );
    });
    page.on('response', response => {
      const status = response.status();
      const url = response.url();
      // Every failed API call, for context; console errors decide.
      if (status >= 500 && url.startsWith(BACKEND)) {
        this.browser.push(
          `HTTP ${status} from ${response.request().method()} ${url}`,
        );
      }
    });
  }

  /** Reads the backend's new log lines: error-level entries and dev-server restarts. */
  scanBackendLog() {
    for (const line of this.portal.newLogLines()) {
      if (/Change detected, restarting the development server/.test(line)) {
        this.portal.restarts++;
        this.backend.push(
          'the backend dev server restarted: a source file it loaded changed (someone edited the checkout?); the run is not trustworthy, re-run it',
        );
      }
      // `<timestamp> <plugin> error <message>`
      const m = /^\S+Z\s+(\S+)\s+error\s+(.*)$/.exec(line);
      if (m && !IGNORED_BACKEND.some(re => re.test(`[${m[1]}] ${m[2]}`)))
        this.backend.push(`backend error [${m[1]}]: ${m[2].slice(0, 400)}`);
    }
  }

  /** The errors since the last call; the step fails on any. */
  take() {
    this.scanBackendLog();
    const all = [...this.browser, ...this.backend];
    this.browser = [];
    this.backend = [];
    return all;
  }
}

// ---------------------------------------------------------------------------
// Steps

const results = [];

async function step(name, fn, { watch } = {}) {
  const started = Date.now();
  log(`▶ ${name}`);
  try {
    const note = await fn();
    const errors = watch ? watch.take() : [];
    if (errors.length) {
      throw new Error(
        `errors while "${name}" ran:\n  - ${errors.join('\n  - ')}`,
      );
    }
    results.push({ name, ms: Date.now() - started, ok: true, note });
    log(
      `✔ ${name} (${seconds(Date.now() - started)})${note ? `: ${note}` : ''}`,
    );
    return note;
  } catch (error) {
    results.push({ name, ms: Date.now() - started, ok: false });
    error.step = name;
    throw error;
  }
}

function summary(totalMs, failure) {
  const width = Math.max(...results.map(r => r.name.length));
  const lines = ['', 'E2E summary'];
  for (const r of results) {
    lines.push(
      `  ${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(width)}  ${seconds(
        r.ms,
      ).padStart(8)}${r.note ? `  ${r.note}` : ''}`,
    );
  }
  lines.push(
    failure
      ? `FAIL in "${failure.step ?? 'setup'}" after ${seconds(totalMs)}: ${
          failure.message
        }`
      : `PASS: ${results.length} steps in ${seconds(totalMs)}`,
  );
  console.log(lines.join('\n'));
}

// Locators. InfoCards have no landmark role; like the plugin's own tests, a
// card is the .MuiCard-root holding its title.
// The plugin's dialogs have no accessible name (no aria-labelledby); a dialog
// is the one whose title heading says so.
const dialogTitled = (page, title) =>
  page
    .getByRole('dialog')
    .filter({ has: page.getByRole('heading', { name: title, exact: true }) });
const card = (scope, title) =>
  scope
    .locator('.MuiCard-root')
    .filter({ has: scope.page().getByText(title, { exact: true }) });

/** Opens a section of the ML Platform tab; its panel. */
async function openSection(page, label) {
  await page
    .getByRole('tablist', { name: 'ML Platform sections' })
    .getByRole('tab', { name: label, exact: true })
    .click();
  const panel = page.getByRole('tabpanel', { name: label, exact: true });
  await panel.waitFor({ timeout: TIMEOUTS.ui });
  return panel;
}

async function screenshot(page, name) {
  // No hover effects or tooltips in the pictures.
  await page.mouse.move(0, 0);
  await sleep(300);
  await page.screenshot({
    path: path.join(SCREENSHOTS, `${name}.png`),
    fullPage: true,
  });
}

/** The text of an element, on one line; waits briefly, so probes stay short. */
const textOf = async locator =>
  oneLine(await locator.innerText({ timeout: 2 * SECOND }));

/** The status text of a StatusChip (aria-hidden, so found by text). */
const STATUS =
  /^(queued|pending|running|succeeded|failed|cancelled|ready|deploying|degraded|stopped)$/;
async function statusIn(locator) {
  const chips = locator.getByText(STATUS);
  const n = await chips.count();
  return n ? oneLine(await chips.first().textContent()) : undefined;
}

// ---------------------------------------------------------------------------
// The flow

async function signIn(page) {
  await page.goto(FRONTEND);
  await page
    .getByRole('button', { name: 'Enter' })
    .click({ timeout: TIMEOUTS.ui });
  // Signed in: the sign-in page gives way to the app and its sidebar.
  await page
    .getByRole('button', { name: 'Enter' })
    .waitFor({ state: 'detached', timeout: TIMEOUTS.ui });
  await page
    .getByRole('navigation', { name: 'sidebar nav' })
    .getByRole('link', { name: 'Settings' })
    .waitFor({ timeout: TIMEOUTS.ui });
}

async function openModelPage(page, watch) {
  // The catalog reads the example entities shortly after the start; until
  // then the page says the entity is not found.
  watch.entityWarmup = true;
  await until(
    'the churn entity page (catalog ingestion)',
    TIMEOUTS.entityIngested,
    async () => {
      // Let the current page finish its requests: a navigation aborts them
      // and the backend logs the cut-off bodies as errors.
      await page
        .waitForLoadState('networkidle', { timeout: 10 * SECOND })
        .catch(() => {});
      await page.goto(MODEL_PAGE);
      const title = page.getByRole('heading', { name: 'Churn classifier' });
      const missing = page.getByText('Entity not found');
      await title.or(missing).first().waitFor({ timeout: TIMEOUTS.ui });
      return title.isVisible();
    },
    { intervalMs: 3 * SECOND },
  );
  watch.entityWarmup = false;
  await page
    .getByRole('navigation', { name: 'Content navigation' })
    .getByRole('link', { name: 'ML Platform' })
    .click();
  await page
    .getByRole('tablist', { name: 'ML Platform sections' })
    .waitFor({ timeout: TIMEOUTS.ui });
  await page
    .getByRole('tabpanel', { name: 'Overview' })
    .waitFor({ timeout: TIMEOUTS.ui });
  return page.url();
}

async function buildMain(page) {
  const panel = await openSection(page, 'Builds');
  await panel
    .getByRole('button', { name: 'Build branch' })
    .click({ timeout: TIMEOUTS.ui });
  const dialog = dialogTitled(page, 'Build a branch');
  await dialog.getByLabel('Branch', { exact: true }).fill('main');
  await dialog.getByRole('button', { name: 'Build', exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });

  // The dialog opens the build it created (or the one already running for
  // that commit): ?build=<id>, shown as "Build v<N>".
  const buildId = await until(
    'the new build to open (?build=<id>)',
    TIMEOUTS.ui,
    async () => new URL(page.url()).searchParams.get('build'),
  );
  const titleText = await until(
    'the build details ("Build v<N>")',
    TIMEOUTS.ui,
    async () => {
      const title = panel.getByText(/^Build v\d+$/);
      return (await title.count()) ? title.first().textContent() : undefined;
    },
  );
  const version = Number(/\d+/.exec(titleText)[0]);
  const details = card(panel, `Build v${version}`);
  const row = panel.getByRole('row', { name: new RegExp(`^v${version}\\b`) });
  await row.waitFor({ timeout: TIMEOUTS.ui });

  // The poller may have built v1 of the same commit; ours is the newest.
  const versions = (await panel.getByRole('row').allTextContents()).map(t =>
    Number(/^v(\d+)/.exec(t.trim())?.[1] ?? 0),
  );
  if (Math.max(...versions) !== version) {
    throw new StepFailure(
      `the build opened after the click is v${version}, but v${Math.max(
        ...versions,
      )} is newer`,
    );
  }

  await until(
    `build v${version} (${buildId}) to succeed`,
    TIMEOUTS.build,
    async () => {
      const status = await statusIn(details.first());
      if (status === 'failed' || status === 'cancelled') {
        const reason = (await textOf(details.first())).slice(0, 600);
        throw new StepFailure(`build v${version} ${status}: ${reason}`);
      }
      const inTable = await statusIn(row);
      return status === 'succeeded' && inTable === 'succeeded';
    },
    {
      lastSeen: async () =>
        `details: ${await statusIn(details.first())}, table: ${await statusIn(
          row,
        )}`,
    },
  );

  // Its steps, each succeeded, and its log.
  const steps = panel.getByRole('table', { name: 'Build steps' });
  const stepRows = steps.locator('tbody tr');
  const stepNames = [];
  for (let i = 0; i < (await stepRows.count()); i++) {
    const cells = stepRows.nth(i).locator('td');
    const stepName = oneLine(await cells.nth(0).textContent());
    const stepStatus = oneLine(await cells.nth(1).textContent());
    if (stepStatus !== 'succeeded')
      throw new StepFailure(`step ${stepName} is ${stepStatus}`);
    stepNames.push(stepName);
  }
  if (stepNames.length === 0) throw new StepFailure('the build shows no steps');
  const logViewer = panel.getByTestId('build-log');
  await until(
    'the build log',
    TIMEOUTS.ui,
    async () => (await textOf(logViewer)).length > 0,
  );
  await screenshot(page, 'builds');
  return {
    buildId,
    version,
    note: `v${version} succeeded: ${stepNames.join(', ')}`,
  };
}

async function deploy(page, build) {
  const panel = await openSection(page, 'Deployments');

  // Online, one replica.
  await panel
    .getByRole('button', { name: 'Deploy', exact: true })
    .click({ timeout: TIMEOUTS.ui });
  let dialog = dialogTitled(page, 'Deploy a build');
  await dialog.getByLabel('Build', { exact: true }).selectOption(build.buildId);
  await dialog.getByRole('radio', { name: 'Online', exact: true }).check();
  await dialog.getByLabel('Replicas', { exact: true }).fill('1');
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });

  const online = card(panel, 'Online deployment');
  const startedAt = Date.now();
  await until(
    'the online deployment to be ready with 1/1 replicas',
    TIMEOUTS.deployReady,
    async () => {
      const status = await statusIn(online.first());
      if (status === 'failed') {
        throw new StepFailure(
          `the online deployment failed: ${(await textOf(online.first())).slice(
            0,
            600,
          )}`,
        );
      }
      const text = await textOf(online.first());
      return (
        status === 'ready' &&
        text.includes('1/1 ready') &&
        text.includes(`v${build.version}`)
      );
    },
    {
      lastSeen: async () => (await textOf(online.first())).slice(0, 300),
    },
  );
  const readyMs = Date.now() - startedAt;

  // A batch deployment of the same build, for the Batch section.
  await panel
    .getByRole('button', { name: 'Deploy', exact: true })
    .click({ timeout: TIMEOUTS.ui });
  dialog = dialogTitled(page, 'Deploy a build');
  await dialog.getByLabel('Build', { exact: true }).selectOption(build.buildId);
  await dialog.getByRole('radio', { name: 'Batch', exact: true }).check();
  await dialog.getByRole('button', { name: 'Deploy', exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });
  const batch = card(panel, 'Batch deployment');
  await until('the batch deployment card', TIMEOUTS.ui, async () => {
    const text = await textOf(batch.first());
    return (
      text.includes(`v${build.version}`) &&
      (await statusIn(batch.first())) !== undefined
    );
  });
  await screenshot(page, 'deployments');
  return `online ready in ${seconds(
    readyMs,
  )} (1/1 replicas), batch deployment created`;
}

async function tryIt(page, build) {
  const panel = await openSection(page, 'Try it');
  await panel
    .getByText(`Input schema of build v${build.version}`)
    .waitFor({ timeout: TIMEOUTS.ui });
  const values = {
    tenure_months: '2',
    monthly_charges: '85',
    total_charges: '170',
    contract: 'month-to-month',
    support_calls: '3',
  };
  for (const [field, value] of Object.entries(values)) {
    await panel.getByLabel(field, { exact: true }).fill(value);
  }
  await panel.getByLabel('has_internet', { exact: true }).check();
  await panel.getByRole('button', { name: 'Predict' }).click();

  const status = panel.getByLabel('Prediction status');
  const text = await until(
    'a prediction (HTTP status and latency)',
    TIMEOUTS.prediction,
    async () =>
      (await status.count())
        ? oneLine(await status.textContent({ timeout: 2 * SECOND }))
        : undefined,
    { lastSeen: async () => (await textOf(panel)).slice(-300) },
  );
  const body = oneLine(await panel.getByLabel('Response body').textContent());
  const latency = /HTTP (\d+)\s*·\s*(\d+) ms/.exec(text);
  if (!latency || latency[1] !== '200') {
    throw new StepFailure(
      `the prediction answered "${text}": ${body.slice(0, 400)}`,
    );
  }
  const probability = /"churn_probability":\s*([0-9.eE-]+)/.exec(body);
  if (
    !probability ||
    !(Number(probability[1]) >= 0 && Number(probability[1]) <= 1)
  ) {
    throw new StepFailure(
      `no churn_probability in the answer: ${body.slice(0, 400)}`,
    );
  }
  await screenshot(page, 'try-it');
  return `HTTP 200 in ${latency[2]} ms, churn_probability ${Number(
    probability[1],
  ).toFixed(3)}`;
}

async function runBatch(page, csvPath) {
  const panel = await openSection(page, 'Batch');
  const start = panel.getByRole('button', { name: 'Start execution' });
  await until('"Start execution" to be enabled', TIMEOUTS.ui, () =>
    start.isEnabled(),
  );
  await start.click();
  const dialog = dialogTitled(page, 'Start a batch execution');
  const model = dialog.getByLabel('Model', { exact: true });
  const options = await model
    .locator('option')
    .evaluateAll(elements =>
      elements.map(o => ({ value: o.value, label: o.textContent })),
    );
  const target = options.find(o => o.label.startsWith('Batch deployment'));
  if (!target)
    throw new StepFailure(
      `no batch deployment to choose; options: ${options
        .map(o => o.label)
        .join(', ')}`,
    );
  await model.selectOption(target.value);
  await dialog
    .getByRole('radio', { name: 'Upload a file', exact: true })
    .check();
  await dialog.getByLabel('Input file').setInputFiles(csvPath);
  await dialog
    .getByText(new RegExp(`^${path.basename(csvPath).replace('.', '\\.')} \\(`))
    .waitFor({ timeout: TIMEOUTS.ui });
  await dialog.getByRole('radio', { name: 'File', exact: true }).check();
  await dialog.getByLabel('Format', { exact: true }).selectOption('jsonl');
  await dialog.getByRole('button', { name: 'Start', exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });

  const row = panel.getByRole('row').filter({ hasText: 'jsonl file' }).first();
  const startedAt = Date.now();
  await until(
    `the execution to succeed with ${BATCH_ROWS} rows`,
    TIMEOUTS.execution,
    async () => {
      const status = await statusIn(row);
      const text = oneLine(await row.textContent({ timeout: 2 * SECOND }));
      if (status === 'failed' || status === 'cancelled') {
        throw new StepFailure(`the execution ${status}: ${text.slice(0, 600)}`);
      }
      return (
        status === 'succeeded' &&
        text.includes(`${BATCH_ROWS} / ${BATCH_ROWS} rows`)
      );
    },
    {
      lastSeen: async () =>
        oneLine(await row.textContent({ timeout: 2 * SECOND })).slice(0, 300),
    },
  );
  const ranMs = Date.now() - startedAt;

  // The result, downloaded as users do: one prediction per input row.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: TIMEOUTS.ui }),
    row.getByRole('button', { name: 'Download' }).click(),
  ]);
  const lines = fs
    .readFileSync(await download.path(), 'utf8')
    .split('\n')
    .filter(Boolean);
  const predictions = lines.map(l => JSON.parse(l));
  if (
    predictions.length !== BATCH_ROWS ||
    !predictions.every(p => typeof p.churn_probability === 'number')
  ) {
    throw new StepFailure(
      `the result ${download.suggestedFilename()} has ${
        predictions.length
      } lines, expected ${BATCH_ROWS} with churn_probability; first: ${
        lines[0]
      }`,
    );
  }
  await screenshot(page, 'batch');
  return `${BATCH_ROWS}/${BATCH_ROWS} rows succeeded in ${seconds(
    ranMs,
  )}; ${download.suggestedFilename()} has ${predictions.length} predictions`;
}

/**
 * Sends traffic through the gateway as another service would (the static
 * token of app-config.yaml): churn rows spread over contracts and tenures,
 * records and V2 calls, and a few bad requests the model refuses.
 */
async function sendTraffic() {
  const token =
    process.env.ML_PLATFORM_SERVICE_TOKEN ?? 'local-dev-ml-platform-token';
  const headers = {
    Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json',
  };
  const rows = churnCsv(MONITORED_CALLS)
    .trim()
    .split('\n')
    .slice(1)
    .map(line => {
      const [tenure, monthly, total, contract, calls, internet] =
        line.split(',');
      return {
        tenure_months: Number(tenure),
        monthly_charges: Number(monthly),
        total_charges: Number(total),
        contract,
        support_calls: Number(calls),
        has_internet: internet === 'true',
      };
    });
  const statuses = {};
  const post = async (url, body) => {
    const res = await fetch(`${BACKEND}/api/ml-platform${url}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  };
  for (const [i, row] of rows.entries()) {
    if (i % 3 === 0) {
      await post('/v2/models/churn/infer', {
        inputs: Object.entries(row).map(([name, value]) => ({
          name,
          datatype:
            {
              contract: 'BYTES',
              has_internet: 'BOOL',
              monthly_charges: 'FP64',
              total_charges: 'FP64',
            }[name] ?? 'INT64',
          shape: [1],
          data: [value],
        })),
      });
    } else {
      await post('/models/default/churn/predict', { dataframe_records: [row] });
    }
  }
  for (let i = 0; i < MONITORED_ERRORS; i++) {
    await post('/models/default/churn/predict', { wrong: 'shape' });
  }
  if (statuses[200] !== MONITORED_CALLS || statuses[400] !== MONITORED_ERRORS) {
    throw new StepFailure(`the traffic answered ${JSON.stringify(statuses)}`);
  }
  return MONITORED_CALLS + MONITORED_ERRORS;
}

async function monitoring(page, build) {
  const sent = await sendTraffic();
  await sleep(1500); // one flush of the recorder (every second here)
  const panel = await openSection(page, 'Monitoring');
  // Every call so far (this traffic and the "Try it" one) once the recorder
  // flushed; the tab refreshes every 15 s.
  const totals = panel.locator('[aria-label="Summary"]');
  const requests = await until(
    `the Monitoring tab to count at least ${sent + 1} requests`,
    TIMEOUTS.metrics,
    async () => {
      if (!(await totals.count())) return undefined;
      const m = /Requests\s*([\d,]+)/.exec(await textOf(totals));
      const n = m && Number(m[1].replace(/,/g, ''));
      return n >= sent + 1 ? n : undefined;
    },
    {
      intervalMs: 2 * SECOND,
      lastSeen: async () => (await textOf(panel)).slice(0, 300),
    },
  );
  const text = await textOf(totals);
  if (!/Error ratio\s*[1-9][\d.]*%/.test(text)) {
    throw new StepFailure(`no error ratio for the refused calls: ${text}`);
  }
  for (const chart of [
    'Requests per second',
    'Latency',
    'Error ratio',
    'Distribution of churn_probability',
    'Distribution of churn',
  ]) {
    const lines = panel
      .getByRole('img', { name: chart, exact: true })
      .locator('.recharts-line-curve, .recharts-bar-rectangle');
    await until(
      `the "${chart}" chart to draw`,
      TIMEOUTS.ui,
      async () => (await lines.count()) > 0,
    );
  }
  const replica = panel
    .getByRole('row')
    .filter({ hasText: `v${build.version}` })
    .first();
  if ((await statusIn(replica)) !== 'ready') {
    throw new StepFailure(
      `the replicas table has no ready replica: ${await textOf(panel)}`,
    );
  }
  await screenshot(page, 'monitoring');
  return `${requests} requests charted (${sent} sent, ${MONITORED_ERRORS} refused), replica ready`;
}

/** Picks an option of a Material UI select (a button and a listbox). */
async function choose(page, panel, label, option) {
  // The select is a button named by its label and its current value.
  await panel
    .getByRole('button', { name: new RegExp(`^${label}\\b`) })
    .first()
    .click();
  await page.getByRole('option', { name: option, exact: true }).click();
}

/**
 * The Events tab: the refused calls of the Monitoring traffic as prediction
 * events, one opened with its request and response; the batch chunks.
 */
async function predictionEvents(page, build) {
  const panel = await openSection(page, 'Events');
  // Filtering reloads the list: the refused calls, newest first.
  await choose(page, panel, 'Status', 'Caller errors (4xx)');
  const refused = panel
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: /^400: / }) })
    .filter({ hasText: 'http' });
  const count = await until(
    `the Events tab to list the ${MONITORED_ERRORS} refused calls`,
    TIMEOUTS.ui,
    async () => {
      const n = await refused.count();
      return n >= MONITORED_ERRORS ? n : undefined;
    },
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  const rowText = await textOf(refused.first());
  if (!rowText.includes(`v${build.version}`)) {
    throw new StepFailure(`the event row has no version: ${rowText}`);
  }
  // A call that succeeded, opened: what was asked and what the model said.
  await choose(page, panel, 'Status', 'Succeeded (2xx)');
  const succeeded = panel
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name: '200', exact: true }) })
    .filter({ hasText: 'http' })
    .filter({ hasText: `v${build.version}` });
  await until(
    'the Events tab to list the calls that succeeded',
    TIMEOUTS.ui,
    async () => (await succeeded.count()) > 0,
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  await succeeded.first().click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor({ timeout: TIMEOUTS.ui });
  await until(
    "the event's request and response",
    TIMEOUTS.ui,
    async () => {
      const text = await textOf(dialog);
      return (
        text.includes('status 200') &&
        text.includes('Request') &&
        text.includes('tenure_months') &&
        text.includes('Response') &&
        text.includes('churn_probability')
      );
    },
    { lastSeen: async () => (await textOf(dialog)).slice(0, 300) },
  );
  await screenshot(page, 'event');
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: TIMEOUTS.ui });

  await choose(page, panel, 'Status', 'Any status');
  await choose(page, panel, 'Trigger', 'Batch');
  const chunks = panel.getByRole('row').filter({ hasText: 'batch' });
  await until(
    "the batch execution's chunks as events",
    TIMEOUTS.ui,
    async () => (await chunks.count()) > 0,
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  await screenshot(page, 'events');
  return `${count} refused calls listed; a call that succeeded opened with its request and response; ${await chunks.count()} batch chunk event(s)`;
}

/** The Logs tab: build lines, searched by a word they contain; follow mode. */
async function logs(page) {
  const panel = await openSection(page, 'Logs');
  await choose(page, panel, 'Source', 'Builds');
  const lines = panel.getByLabel('Log lines').locator('[data-level]');
  await until(
    'build log lines',
    TIMEOUTS.ui,
    async () => (await lines.count()) > 0,
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  const all = await lines.count();
  // A word of a build line, searched in upper case (the search ignores case).
  const texts = await lines.allInnerTexts();
  const word = texts
    .map(t => t.replace(/^.*?\] /, ''))
    .map(t => /[a-z]{5,}/i.exec(t)?.[0])
    .find(Boolean);
  if (!word) throw new StepFailure(`no word in the build lines: ${texts[0]}`);
  await panel.getByLabel('Search', { exact: true }).fill(word.toUpperCase());
  const found = await until(
    `the lines containing "${word}"`,
    TIMEOUTS.ui,
    async () => {
      const matching = await lines.allInnerTexts();
      return matching.length > 0 &&
        matching.every(t => t.toLowerCase().includes(word.toLowerCase()))
        ? matching.length
        : undefined;
    },
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  await panel.getByLabel('Follow', { exact: true }).check();
  await screenshot(page, 'logs');
  return `${all} build lines; ${found} contain "${word}"; following`;
}

async function backToOverview(page, build) {
  const panel = await openSection(page, 'Overview');
  const online = card(panel, 'Online deployment');
  const latest = card(panel, 'Latest build');
  await until(
    'the overview to show the ready deployment and the latest build',
    TIMEOUTS.ui,
    async () => {
      const onlineText = await textOf(online.first());
      const latestText = await textOf(latest.first());
      return (
        (await statusIn(online.first())) === 'ready' &&
        onlineText.includes(`Build v${build.version} · 1/1 replicas ready`) &&
        latestText.includes(`v${build.version}`) &&
        (await statusIn(latest.first())) === 'succeeded'
      );
    },
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  await panel
    .getByText('Running executions (0)')
    .waitFor({ timeout: TIMEOUTS.ui });
  const health = card(panel, 'Health, last hour').first();
  await health
    .getByRole('img', { name: 'Requests/s over the last hour' })
    .waitFor({ timeout: TIMEOUTS.ui });
  await screenshot(page, 'overview');
  return `ready deployment, latest build, no running execution; health: ${(
    await textOf(health)
  ).slice(0, 80)}`;
}

/** The Activity section lists what the guest changed, newest first. */
async function alerts(page) {
  const panel = await openSection(page, 'Monitoring');
  const row = panel
    .getByRole('table', { name: 'Alert rules' })
    .getByRole('row')
    .filter({ hasText: 'churn-error-rate' });
  await until(
    "the Alerts section to list mlmodel.yaml's churn-error-rate",
    TIMEOUTS.ui,
    async () =>
      (await row.count()) > 0 && (await textOf(row)).includes('mlmodel.yaml'),
    { lastSeen: async () => (await textOf(panel)).slice(-300) },
  );
  await row.getByRole('button', { name: 'Silence', exact: true }).click();
  await page
    .getByRole('dialog')
    .getByRole('button', { name: 'Silence', exact: true })
    .click();
  await until('the rule to show its silence', TIMEOUTS.ui, async () =>
    (await textOf(row)).includes('silenced until'),
  );
  await row.scrollIntoViewIfNeeded();
  await screenshot(page, 'alerts');
  return 'churn-error-rate listed from mlmodel.yaml, silenced for an hour';
}

async function activity(page) {
  const panel = await openSection(page, 'Activity');
  const wanted = ['Build', 'Deploy', 'Start execution'];
  await until(
    "the activity to list the guest's build, deployments and execution",
    TIMEOUTS.ui,
    async () => {
      const rows = panel.getByRole('row').filter({ hasText: /guest/i });
      const texts = await rows.allInnerTexts();
      return wanted.every(what =>
        texts.some(t => t.includes(what) && t.includes('succeeded')),
      );
    },
    { lastSeen: async () => (await textOf(panel)).slice(0, 300) },
  );
  await screenshot(page, 'activity');
  return `${wanted.join(', ')} by guest`;
}

// ---------------------------------------------------------------------------

async function main() {
  const startedAt = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-e2e-'));
  const dataDir = path.join(tmp, 'data');
  const profileDir = path.join(tmp, 'chromium-profile');
  const csvPath = path.join(tmp, 'churn-e2e.csv');
  const logFile = path.join(
    os.tmpdir(),
    `mlp-e2e-portal-${path.basename(tmp).slice('mlp-e2e-'.length)}.log`,
  );
  fs.mkdirSync(dataDir);
  fs.writeFileSync(csvPath, churnCsv(BATCH_ROWS));
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  fs.rmSync(path.join(SCREENSHOTS, 'failure.png'), { force: true });

  const portal = new Portal({ logFile, dataDir });
  const watch = new ErrorWatch(portal);
  let context;
  let page;
  let failure;

  const cleanup = async () => {
    await context?.close().catch(() => {});
    await portal.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = signal => {
    log(`${signal}: stopping the portal`);
    cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    await step('start the portal', async () => {
      for (const port of [FRONTEND_PORT, BACKEND_PORT]) {
        if (!(await portIsFree(port))) {
          throw new Error(
            `port ${port} is in use; is another portal (or e2e run) running?`,
          );
        }
      }
      log(`portal log: ${logFile}`);
      portal.start();
      await portal.waitUntilUp();
      // Startup noise (e.g. a shutting-down first instance) is not the flow's.
      portal.newLogLines();
      return `backend :${BACKEND_PORT}, frontend :${FRONTEND_PORT}`;
    });

    await step('launch Chromium', async () => {
      context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1400, height: 900 },
        acceptDownloads: true,
      });
      context.setDefaultTimeout(TIMEOUTS.ui);
      page = context.pages()[0] ?? (await context.newPage());
      watch.attach(page);
      return `Chromium ${context.browser()?.version() ?? ''}`.trim();
    });

    await step('sign in as guest', () => signIn(page), { watch });
    await step(
      "open the churn model's ML Platform tab",
      () => openModelPage(page, watch).then(() => undefined),
      { watch },
    );
    let build;
    await step(
      'Builds: build main and wait for it to succeed',
      async () => {
        build = await buildMain(page);
        return build.note;
      },
      { watch },
    );
    await step(
      'Deployments: deploy online (1 replica) and as batch',
      () => deploy(page, build),
      { watch },
    );
    await step('Try it: predict from the form', () => tryIt(page, build), {
      watch,
    });
    await step(
      `Batch: score an uploaded CSV of ${BATCH_ROWS} rows to JSONL`,
      () => runBatch(page, csvPath),
      { watch },
    );
    await step(
      'Monitoring: send traffic, see it charted',
      () => monitoring(page, build),
      { watch },
    );
    await step("Alerts: the manifest's rule, silenced", () => alerts(page), {
      watch,
    });
    await step(
      'Events: the calls and batch chunks as prediction events',
      () => predictionEvents(page, build),
      { watch },
    );
    await step('Logs: search the build log, follow', () => logs(page), {
      watch,
    });
    await step('Activity: who changed the model', () => activity(page), {
      watch,
    });
    await step('Overview', () => backToOverview(page, build), { watch });
  } catch (error) {
    failure = error;
    if (page) {
      await page
        .screenshot({
          path: path.join(SCREENSHOTS, 'failure.png'),
          fullPage: true,
        })
        .catch(() => {});
    }
    console.error(`\n✘ ${error.step ?? 'setup'} failed: ${error.message}`);
    if (page)
      console.error(
        `  page: ${page.url()}\n  screenshot: ${path.join(
          SCREENSHOTS,
          'failure.png',
        )}`,
      );
    console.error(
      `\n--- portal log (last lines of ${logFile}) ---\n${portal.tail()}\n---`,
    );
  }

  await cleanup();
  if (!failure) fs.rmSync(logFile, { force: true });
  if (portal.restarts)
    log(
      `note: the backend dev server restarted ${portal.restarts} time(s) during the run`,
    );
  summary(Date.now() - startedAt, failure);
  process.exit(failure ? 1 : 0);
}

await main();
