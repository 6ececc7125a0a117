import path from 'node:path';

/**
 * The real modules of an events backend provider package (push routing and
 * webhook signature checks). Their default exports load them with a
 * dynamic import(), which Jest's VM cannot run, so tests load the module
 * files themselves.
 */
function eventsModules(provider: 'github' | 'gitlab', files: string[]) {
  const dist = path.join(
    path.dirname(
      require.resolve(
        `@backstage/plugin-events-backend-module-${provider}/package.json`,
      ),
    ),
    'dist',
    'service',
  );
  return files.map(file => require(path.join(dist, file)).default);
}

/** `@backstage/plugin-events-backend-module-github`'s router and webhook check. */
export function githubEventsModules() {
  return eventsModules('github', [
    'eventsModuleGithubEventRouter.cjs.js',
    'eventsModuleGithubWebhook.cjs.js',
  ]);
}

/** `@backstage/plugin-events-backend-module-gitlab`'s router and token check. */
export function gitlabEventsModules() {
  return eventsModules('gitlab', [
    'eventsModuleGitlabEventRouter.cjs.js',
    'eventsModuleGitlabWebhook.cjs.js',
  ]);
}
