// @ts-check

/**
 * The embedded metrics store: per model and minute (resolution 60), and per
 * hour once downsampled (resolution 3600). Every value is a number that
 * flushes and downsampling add in SQL (`ON CONFLICT ... DO UPDATE`), so
 * several backend instances write the same rows without reading them first.
 * Histogram buckets are columns (`lat_b<i>`: the i-th bound of
 * LATENCY_BUCKETS in src/monitoring/metricNames.ts, the last one +Inf) so a
 * range query sums them in the database instead of parsing each row. Every
 * minute is also added to its hour row, so long ranges read hours only
 * (the model index leads with the resolution for that).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  const LATENCY_BUCKETS = 16;
  const CHUNK_BUCKETS = 16;

  /** @param {import('knex').Knex.CreateTableBuilder} table */
  const seriesColumns = table => {
    table
      .integer('resolution')
      .notNullable()
      .comment('Seconds one row covers: 60 (raw) or 3600 (downsampled)');
    table
      .bigInteger('bucket_start')
      .notNullable()
      .comment('Start of the minute or hour, epoch milliseconds');
    table.string('model_ref', 255).notNullable();
    table.string('deployment_id', 64).notNullable().defaultTo('');
    table.string('build_id', 64).notNullable();
    table.integer('version').notNullable().comment('The build version');
  };

  await knex.schema.createTable('metrics_calls', table => {
    table.comment('Online calls through the gateway, per series and bucket');
    seriesColumns(table);
    table.string('route', 16).notNullable();
    table.string('caller_kind', 16).notNullable();
    table.bigInteger('requests').notNullable().defaultTo(0);
    table.bigInteger('caller_errors').notNullable().defaultTo(0);
    table.bigInteger('model_errors').notNullable().defaultTo(0);
    table.bigInteger('unavailable').notNullable().defaultTo(0);
    table.bigInteger('timeouts').notNullable().defaultTo(0);
    table.bigInteger('rows').notNullable().defaultTo(0);
    table.double('latency_sum').notNullable().defaultTo(0);
    table.integer('in_flight_max').notNullable().defaultTo(0);
    for (let i = 0; i < LATENCY_BUCKETS; i++) {
      table.bigInteger(`lat_b${i}`).notNullable().defaultTo(0);
    }
    table.unique(
      [
        'resolution',
        'bucket_start',
        'model_ref',
        'deployment_id',
        'build_id',
        'route',
        'caller_kind',
      ],
      { indexName: 'metrics_calls_series_idx' },
    );
    table.index(
      ['model_ref', 'resolution', 'bucket_start'],
      'metrics_calls_model_idx',
    );
    table.index(['bucket_start'], 'metrics_calls_time_idx');
  });

  await knex.schema.createTable('metrics_predictions', table => {
    table.comment(
      'Prediction distribution: numeric outputs per bucket (bin = upper bound), classes per value',
    );
    seriesColumns(table);
    table.string('output', 128).notNullable();
    table.string('kind', 8).notNullable().comment('numeric | class');
    table.string('bin', 128).notNullable();
    table.bigInteger('count').notNullable().defaultTo(0);
    table
      .double('value_sum')
      .notNullable()
      .defaultTo(0)
      .comment('Sum of the numeric values in the bin, for means');
    table.unique(
      [
        'resolution',
        'bucket_start',
        'model_ref',
        'deployment_id',
        'build_id',
        'output',
        'kind',
        'bin',
      ],
      { indexName: 'metrics_predictions_series_idx' },
    );
    table.index(
      ['model_ref', 'resolution', 'bucket_start'],
      'metrics_predictions_model_idx',
    );
    table.index(['bucket_start'], 'metrics_predictions_time_idx');
  });

  await knex.schema.createTable('metrics_kpis', table => {
    table.comment('Custom KPIs models return (`kpis`), summed and counted');
    seriesColumns(table);
    table.string('kpi', 128).notNullable();
    table.double('sum').notNullable().defaultTo(0);
    table.bigInteger('count').notNullable().defaultTo(0);
    table.unique(
      [
        'resolution',
        'bucket_start',
        'model_ref',
        'deployment_id',
        'build_id',
        'kpi',
      ],
      { indexName: 'metrics_kpis_series_idx' },
    );
    table.index(
      ['model_ref', 'resolution', 'bucket_start'],
      'metrics_kpis_model_idx',
    );
    table.index(['bucket_start'], 'metrics_kpis_time_idx');
  });

  await knex.schema.createTable('metrics_batch', table => {
    table.comment('Batch chunk attempts, per series and bucket');
    seriesColumns(table);
    table.bigInteger('chunks').notNullable().defaultTo(0);
    table.bigInteger('bad_input').notNullable().defaultTo(0);
    table.bigInteger('model_errors').notNullable().defaultTo(0);
    table.bigInteger('io_errors').notNullable().defaultTo(0);
    table.bigInteger('worker_crashes').notNullable().defaultTo(0);
    table.bigInteger('rows').notNullable().defaultTo(0);
    table.double('duration_sum').notNullable().defaultTo(0);
    for (let i = 0; i < CHUNK_BUCKETS; i++) {
      table.bigInteger(`dur_b${i}`).notNullable().defaultTo(0);
    }
    table.unique(
      ['resolution', 'bucket_start', 'model_ref', 'deployment_id', 'build_id'],
      { indexName: 'metrics_batch_series_idx' },
    );
    table.index(
      ['model_ref', 'resolution', 'bucket_start'],
      'metrics_batch_model_idx',
    );
    table.index(['bucket_start'], 'metrics_batch_time_idx');
  });

  await knex.schema.createTable('metrics_replicas', table => {
    table.comment(
      'Replica health sampled from the runtime, per backend instance (each runs its own local replicas)',
    );
    seriesColumns(table);
    table.string('instance_id', 64).notNullable();
    table.integer('samples').notNullable().defaultTo(0);
    table.bigInteger('restarts').notNullable().defaultTo(0);
    table.double('cpu_seconds').notNullable().defaultTo(0);
    table.bigInteger('memory_bytes_max').notNullable().defaultTo(0);
    table.integer('ready_min').notNullable().defaultTo(0);
    table.integer('desired_max').notNullable().defaultTo(0);
    table.unique(
      [
        'resolution',
        'bucket_start',
        'model_ref',
        'deployment_id',
        'build_id',
        'instance_id',
      ],
      { indexName: 'metrics_replicas_series_idx' },
    );
    table.index(
      ['model_ref', 'resolution', 'bucket_start'],
      'metrics_replicas_model_idx',
    );
    table.index(['bucket_start'], 'metrics_replicas_time_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('metrics_replicas');
  await knex.schema.dropTable('metrics_batch');
  await knex.schema.dropTable('metrics_kpis');
  await knex.schema.dropTable('metrics_predictions');
  await knex.schema.dropTable('metrics_calls');
};
