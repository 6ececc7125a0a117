export interface Config {
  mlPlatform?: {
    /** The kubernetes runtime (`mlPlatform.runtime: kubernetes`). */
    kubernetes?: {
      /**
       * How to reach the cluster: `inCluster` (the backend's service account,
       * when it runs in a pod), `kubeconfig` (a kubeconfig file), or `token`
       * (`url` + `token` + `caData`/`caFile`).
       * @default "inCluster"
       */
      auth?: 'inCluster' | 'kubeconfig' | 'token';
      /** The API server, for `auth: token`, e.g. `https://10.0.0.1:6443`. */
      url?: string;
      /**
       * A bearer token for `auth: token` (a service account token).
       * @visibility secret
       */
      token?: string;
      /** The cluster's CA certificate, base64 PEM. */
      caData?: string;
      /** The cluster's CA certificate file. */
      caFile?: string;
      /** Skips TLS verification of the API server (never in production). */
      skipTLSVerify?: boolean;
      /** For `auth: kubeconfig`: the file (default: `$KUBECONFIG` or `~/.kube/config`). */
      kubeconfig?: string;
      /** For `auth: kubeconfig`: the context (default: the current one). */
      context?: string;
      /**
       * Where models run (one namespace per platform: the runtime owns what
       * it labels there).
       * @default "ml-models"
       */
      namespace?: string;
      /** The runtime image (`image/Dockerfile` of this module), e.g. `registry.example.com/mlp-runtime:1.0`. */
      image: string;
      /** @default "IfNotPresent" */
      imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
      /** Secrets for pulling the runtime image. */
      imagePullSecrets?: string[];
      /** The pods' service account (none needs API access). */
      serviceAccountName?: string;
      /** Requests and limits of a model server, e.g. `{requests: {cpu: 250m, memory: 512Mi}}`. */
      resources?: {
        requests?: { cpu?: string; memory?: string };
        limits?: { cpu?: string; memory?: string };
      };
      /**
       * How the gateway reaches replicas: `service` (the Service's cluster
       * DNS name) or `pods` (ready pods' IPs, balanced by the gateway; the
       * backend must run in the cluster).
       * @default "service"
       */
      replicaUrls?: 'service' | 'pods';
      /** @default "cluster.local" */
      clusterDomain?: string;
      /** Seconds a stopping model server has to drain. @default 30 */
      terminationGracePeriodSeconds?: number;
      /** CPU utilization the HorizontalPodAutoscaler aims at. @default 70 */
      targetCPUUtilization?: number;
      /** Batch executions (Indexed Jobs). */
      batch?: {
        /** Requests and limits of a batch pod (default: those of `resources`). */
        resources?: {
          requests?: { cpu?: string; memory?: string };
          limits?: { cpu?: string; memory?: string };
        };
        /** Finished Jobs are removed after this many seconds. @default 3600 */
        ttlSecondsAfterFinished?: number;
        /**
         * Lifetime of the tokens batch pods read their chunks and write their
         * predictions with: longer than an execution runs.
         * @default 12 hours
         */
        tokenTtl?: number | { [unit: string]: number } | string;
      };
    };
    artifacts?: {
      /** The S3-compatible artifact store (`mlPlatform.artifacts.type: s3`). */
      s3?: {
        bucket: string;
        /** Key prefix inside the bucket. */
        prefix?: string;
        /** @default "us-east-1" */
        region?: string;
        /** For MinIO and other S3-compatible stores, e.g. `http://minio:9000`. */
        endpoint?: string;
        /** Path-style URLs (`endpoint/bucket/key`), as MinIO needs. @default true when endpoint is set */
        forcePathStyle?: boolean;
        /** Static credentials; without them the AWS default chain is used. */
        accessKeyId?: string;
        /** @visibility secret */
        secretAccessKey?: string;
      };
    };
  };
}
