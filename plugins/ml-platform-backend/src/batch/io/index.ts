/**
 * Batch input/output: row sources (CSV, JSON lines, Parquet, SQL), the
 * planner that splits a source into chunk files for the Python batch worker,
 * and the sinks that turn the worker's prediction files into the output.
 */
export type {
  ChunkDescriptor,
  ChunkFormat,
  ChunkResult,
  InputFormat,
  OutputFormat,
  ResultSink,
  RowSource,
  SourceRow,
} from './types';
export { fileSource, streamSource } from './sources';
export type { FileSourceOptions, StreamSourceOptions } from './sources';
export { sqlSource } from './sqlSource';
export type { SqlSourceOptions } from './sqlSource';
export { checkColumns } from './checkColumns';
export { formatFromHead, formatFromName } from './format';
export { DEFAULT_ID_COLUMN, chunkFileName, planChunks } from './planner';
export type { PlanChunksOptions, PlanSummary } from './planner';
export { readResultFile } from './results';
export type { PredictionRecord } from './results';
export { FileResultSink, ROW_ID_COLUMN, assemble } from './fileSink';
export { JsonlConcatSink } from './concatSink';
export type { AssembleOptions, AssembleSummary } from './fileSink';
export { SqlTableSink, validateTableName } from './sqlSink';
export type { SqlTableSinkOptions } from './sqlSink';
export { ParquetRowWriter } from './parquet';
export type { ParquetColumnSpec, ParquetColumnType } from './parquet';
export {
  InputRefusedError,
  SinkRegistry,
  SourceRegistry,
  defaultSinks,
  defaultSources,
} from './registry';
export type {
  SinkContext,
  SinkFactory,
  SourceContext,
  SourceFactory,
} from './registry';
