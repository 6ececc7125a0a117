export interface Config {
  /** Settings of the ML platform backend plugin. */
  mlPlatform?: {
    /**
     * Directory for the platform's own files: build workspaces, artifacts,
     * local Git repositories. Relative paths resolve against the backend's
     * working directory.
     * @default ".data/ml-platform"
     */
    dataDir?: string;

    /** Where build artifacts and batch results are kept. */
    artifacts?: {
      /**
       * Which artifact store to use; `local` is built in, modules add others
       * through the artifact store extension point.
       * @default "local"
       */
      type?: string;
      local?: {
        /**
         * Directory of the local store.
         * @default "<dataDir>/artifacts"
         */
        dir?: string;
      };
    };
  };
}
