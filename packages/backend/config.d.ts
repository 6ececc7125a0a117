export interface Config {
  permission?: {
    /** The portal's permission policy, for the ML platform's permissions. */
    mlPlatform?: {
      /**
       * Users and groups that may change every model, owners or not, e.g.
       * `user:default/alan` or `group:default/ml-platform-team`. A group
       * counts for its members (their sign-in ownership refs).
       */
      admins?: string[];
    };
  };
}
