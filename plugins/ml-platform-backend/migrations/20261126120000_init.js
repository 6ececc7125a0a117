// @ts-check

/**
 * The platform's state: models known to the platform, their builds and build
 * logs, deployments, batch executions and their chunks.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('models', table => {
    table.comment('Catalog ml-model components the platform has seen');
    table.string('entity_ref').primary().notNullable();
    table
      .text('git_url')
      .nullable()
      .comment('Clone URL resolved from the entity');
    table
      .text('git_path')
      .nullable()
      .comment('Model directory inside the repo');
    table.string('default_branch').nullable();
    table.integer('last_build_version').notNullable().defaultTo(0);
    table.timestamp('registered_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
  });

  await knex.schema.createTable('builds', table => {
    table.comment('Immutable, versioned packages of a model at one commit');
    table.uuid('id').primary().notNullable();
    table.string('model_ref').notNullable();
    table.integer('version').notNullable();
    table.string('status').notNullable();
    table.string('trigger').notNullable();
    table.string('trigger_source').nullable();
    table.string('requested_by').nullable();
    table.string('branch').nullable();
    table.string('commit_sha', 64).nullable();
    table.text('commit_message').nullable();
    table.string('commit_author').nullable();
    table.text('failure_reason').nullable();
    table.text('steps').notNullable().comment('JSON array of steps');
    table.text('manifest').nullable().comment('Validated mlmodel.yaml as JSON');
    table.text('artifact_uri').nullable();
    table.string('artifact_digest').nullable();
    table
      .string('claimed_by')
      .nullable()
      .comment('Backend instance running it');
    table.timestamp('heartbeat_at', { useTz: true }).nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('started_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.unique(['model_ref', 'version']);
    table.index(['status', 'created_at']);
    table.index(['model_ref', 'commit_sha', 'trigger']);
  });

  await knex.schema.createTable('build_logs', table => {
    table.bigIncrements('id').primary();
    table.uuid('build_id').notNullable();
    table.string('step').nullable();
    table.text('line').notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.index(['build_id', 'id']);
  });

  await knex.schema.createTable('deployments', table => {
    table.comment('Desired state of online and batch deployments');
    table.uuid('id').primary().notNullable();
    table.string('model_ref').notNullable();
    table.uuid('build_id').notNullable();
    table.string('type').notNullable();
    table.string('status').notNullable();
    table.text('reason').nullable();
    table.integer('replicas').notNullable();
    table.integer('min_replicas').notNullable();
    table.integer('max_replicas').notNullable();
    table.integer('ready_replicas').notNullable().defaultTo(0);
    table.text('batch').nullable().comment('JSON batch settings');
    table.string('created_by').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.timestamp('deleted_at', { useTz: true }).nullable();
    table.index(['model_ref', 'type']);
  });

  await knex.schema.createTable('executions', table => {
    table.comment('Triggered runs of a batch model');
    table.uuid('id').primary().notNullable();
    table.string('model_ref').notNullable();
    table.uuid('deployment_id').nullable();
    table.uuid('build_id').notNullable();
    table.string('status').notNullable();
    table.text('input').notNullable().comment('JSON input description');
    table.text('output').notNullable().comment('JSON output description');
    table.integer('chunk_size').notNullable();
    table.integer('parallelism').notNullable();
    table.integer('max_retries').notNullable();
    table.integer('chunks_total').nullable();
    table.bigInteger('rows_total').nullable();
    table.text('error').nullable();
    table.string('created_by').nullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('started_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.index(['model_ref', 'created_at']);
    table.index(['status']);
  });

  await knex.schema.createTable('chunks', table => {
    table.comment('Slices of an execution input, each run and retried alone');
    table.uuid('execution_id').notNullable();
    table.integer('seq').notNullable();
    table.bigInteger('row_start').notNullable();
    table.bigInteger('row_end').notNullable().comment('Exclusive');
    table.string('status').notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.text('error').nullable();
    table.timestamp('started_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.primary(['execution_id', 'seq']);
    table.index(['execution_id', 'status']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  for (const t of [
    'chunks',
    'executions',
    'deployments',
    'build_logs',
    'builds',
    'models',
  ]) {
    await knex.schema.dropTable(t);
  }
};
