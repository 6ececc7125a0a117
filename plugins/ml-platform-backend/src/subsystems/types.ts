import {
  HttpAuthService,
  SchedulerServiceTaskInvocationDefinition,
  SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import express from 'express';
import { Caller } from '../activity/ModelChanges';
import { createOpenApiRouter } from '../schema/openapi/generated';

/** The router typed by the OpenAPI document's EndpointMap. */
export type PlatformApiRouter = Awaited<ReturnType<typeof createOpenApiRouter>>;

/** What a subsystem's routes may use besides its own services. */
export interface RouteContext {
  httpAuth: HttpAuthService;
  /** The caller of a change, with the request its audit event describes. */
  callerOf(req: express.Request, res: express.Response): Promise<Caller>;
  /** Bounds of request bodies (`mlPlatform.gateway`). */
  limits: { bodyTimeoutMs: number; maxJsonDepth: number };
  /** Validates a request against the OpenAPI document (for stream routes). */
  validation: express.Router;
}

/** A task for `coreServices.scheduler`. */
export type PlatformTask = SchedulerServiceTaskScheduleDefinition &
  SchedulerServiceTaskInvocationDefinition;

/**
 * One part of the platform (builds, online, batch, ...), as the plugin
 * composes it: its HTTP routes, its scheduled tasks and what it does when
 * the backend starts and stops. Its services are the factory's own return.
 */
export interface Subsystem {
  readonly name: string;
  /** Routes whose bodies stream (before the JSON parser); checked by the document too. */
  streamRoutes?(router: express.Router, ctx: RouteContext): void;
  /** Routes of the OpenAPI document, on the typed router. */
  routes?(api: PlatformApiRouter, ctx: RouteContext): void;
  tasks: PlatformTask[];
  /** Run once the backend is up. */
  onStartup: (() => Promise<void> | void)[];
  /** Run in order when the backend stops. */
  onShutdown: (() => Promise<void> | void)[];
}
