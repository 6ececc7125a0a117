export interface Config {
  mlPlatform?: {
    /** Git hosting for the embedded default (`ml-platform:publish:git`). */
    git?: {
      /**
       * Directory holding the bare repositories new models are published to.
       * Relative paths resolve against the backend's working directory.
       * @default "<mlPlatform.dataDir>/git"
       */
      root?: string;
    };
  };
}
