import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ManifestAlertRule,
  ModelAlert,
  ModelRef,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import MenuItem from '@material-ui/core/MenuItem';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import YAML from 'yaml';
import { mlPlatformApiRef } from '../../api';
import { useElementId, useModelPermissions, usePolledAsync } from '../../hooks';
import { ActionButton } from '../ActionButton';
import { FormDialog } from '../FormDialog';
import { StatusChip } from '../StatusChip';
import { DashboardLinks } from './DashboardLinks';

const ALERTS_POLL_MS = 30_000;
const SILENCES = [
  { id: '1h', label: '1 hour' },
  { id: '4h', label: '4 hours' },
  { id: '1d', label: '1 day' },
  { id: '7d', label: '7 days' },
];

/** Short cells stay on one line; the condition wraps instead. */
const NOWRAP = { whiteSpace: 'nowrap' } as const;

const time = (iso: string | null) =>
  iso ? new Date(iso).toLocaleString() : '—';

function condition(rule: ManifestAlertRule) {
  const output = rule.output ? ` of ${rule.output}` : '';
  return `${rule.metric}${output} ${rule.op} ${rule.threshold} for ${rule.for}`;
}

function sourceLabel(rule: ModelAlert) {
  if (rule.source === 'manifest') return 'mlmodel.yaml';
  return rule.overridesManifest
    ? 'set here (replaces mlmodel.yaml)'
    : 'set here';
}

function notifiedLabel(entry: { notified: boolean; silenced: boolean }) {
  if (entry.notified) return 'yes';
  return entry.silenced ? 'no (silenced)' : 'no';
}

/** A rule as it is written in mlmodel.yaml and sent to the API. */
function ruleBody(alert: ModelAlert): ManifestAlertRule {
  const { name, metric, output, op, threshold, severity } = alert;
  return {
    name,
    metric,
    ...(output ? { output } : {}),
    op,
    threshold,
    for: alert.for,
    severity,
  };
}

/**
 * Edits the rules set through the API, as YAML in the shape of
 * `monitoring.alerts` in mlmodel.yaml. A rule named like one of the
 * manifest's replaces it.
 */
function EditRulesDialog(props: {
  initial: ManifestAlertRule[];
  onClose: () => void;
  onSave: (rules: ManifestAlertRule[]) => Promise<void>;
}) {
  const [text, setText] = useState(() =>
    props.initial.length ? YAML.stringify(props.initial) : '[]\n',
  );
  const [parseError, setParseError] = useState<string>();
  const fieldId = useElementId('ml-platform-alert-rules');
  return (
    <FormDialog
      title="Edit alert rules"
      submitLabel="Save rules"
      onClose={props.onClose}
      maxWidth="md"
      onSubmit={() => {
        let rules: unknown;
        try {
          rules = YAML.parse(text) ?? [];
        } catch (e) {
          setParseError(`Not YAML: ${(e as Error).message.split('\n')[0]}`);
          return undefined;
        }
        setParseError(undefined);
        return props.onSave(rules as ManifestAlertRule[]);
      }}
    >
      <Typography variant="body2" paragraph>
        Rules set here, as a list in the shape of <code>monitoring.alerts</code>{' '}
        in mlmodel.yaml: <code>name</code>, <code>metric</code> (error_rate,
        latency_p95, latency_p99, requests_per_second, prediction_mean,
        prediction_drift, or a custom KPI), <code>op</code>,{' '}
        <code>threshold</code>, <code>for</code> and <code>severity</code>. A
        rule named like one of the manifest&apos;s replaces it.
      </Typography>
      <TextField
        id={fieldId}
        label="Rules (YAML)"
        value={text}
        onChange={e => setText(e.target.value)}
        multiline
        minRows={10}
        fullWidth
        variant="outlined"
        inputProps={{ spellCheck: false, style: { fontFamily: 'monospace' } }}
        error={!!parseError}
        helperText={parseError}
      />
    </FormDialog>
  );
}

function SilenceDialog(props: {
  rule: string;
  onClose: () => void;
  onSilence: (duration: string) => Promise<void>;
}) {
  const [duration, setDuration] = useState('1h');
  const fieldId = useElementId('ml-platform-silence');
  return (
    <FormDialog
      title={`Silence ${props.rule}`}
      submitLabel="Silence"
      onClose={props.onClose}
      maxWidth="xs"
      onSubmit={() => props.onSilence(duration)}
    >
      <Typography variant="body2" paragraph>
        The rule keeps being evaluated and its history kept; its owner is not
        notified until the silence ends.
      </Typography>
      <TextField
        id={fieldId}
        select
        label="For"
        value={duration}
        onChange={e => setDuration(e.target.value)}
        fullWidth
      >
        {SILENCES.map(s => (
          <MenuItem key={s.id} value={s.id}>
            {s.label}
          </MenuItem>
        ))}
      </TextField>
    </FormDialog>
  );
}

/**
 * The Monitoring tab's Alerts section: the model's rules with their state
 * and last change, silences and editing, and the history of changes.
 */
export function AlertsSection(props: { modelRef: ModelRef }) {
  const { modelRef } = props;
  const api = useApi(mlPlatformApiRef);
  const permissions = useModelPermissions(modelRef);
  const [editing, setEditing] = useState<ManifestAlertRule[]>();
  const [silencing, setSilencing] = useState<string>();
  const [actionError, setActionError] = useState<Error>();
  const alerts = usePolledAsync(
    async () => {
      const [rules, history] = await Promise.all([
        api.getModelAlerts(modelRef),
        api.getAlertHistory(modelRef, { limit: 20 }),
      ]);
      return { rules, history };
    },
    [api, modelRef],
    ALERTS_POLL_MS,
  );
  const rules = alerts.value?.rules.items ?? [];
  const own = rules.filter(r => r.source === 'api').map(ruleBody);

  const unsilence = async (rule: string) => {
    try {
      setActionError(undefined);
      await api.unsilenceAlert(modelRef, rule);
      void alerts.refresh();
    } catch (e) {
      setActionError(e as Error);
    }
  };

  return (
    <InfoCard
      title="Alerts"
      subheader="Rules from mlmodel.yaml and set here, evaluated every minute; the owner is notified when one fires or resolves"
    >
      <DashboardLinks modelRef={modelRef} />
      {alerts.loading && <Progress />}
      {alerts.error && <ResponseErrorPanel error={alerts.error} />}
      {actionError && <ResponseErrorPanel error={actionError} />}
      {alerts.value && (
        <>
          <Box display="flex" justifyContent="flex-end" mb={1}>
            <ActionButton
              decision={permissions.updateAlerts}
              variant="outlined"
              size="small"
              onClick={() => setEditing(own)}
            >
              Edit rules
            </ActionButton>
          </Box>
          {rules.length === 0 ? (
            <Typography variant="body2" color="textSecondary">
              No alert rules: add <code>monitoring.alerts</code> to
              mlmodel.yaml, or edit the rules here.
            </Typography>
          ) : (
            <Table size="small" aria-label="Alert rules">
              <TableHead>
                <TableRow>
                  <TableCell style={NOWRAP}>Rule</TableCell>
                  <TableCell style={NOWRAP}>Condition</TableCell>
                  <TableCell style={NOWRAP}>Severity</TableCell>
                  <TableCell style={NOWRAP}>State</TableCell>
                  <TableCell style={NOWRAP}>Last change</TableCell>
                  <TableCell style={NOWRAP}>Value</TableCell>
                  <TableCell style={NOWRAP}>From</TableCell>
                  <TableCell />
                </TableRow>
              </TableHead>
              <TableBody>
                {rules.map(rule => (
                  <TableRow key={rule.name}>
                    <TableCell>{rule.name}</TableCell>
                    <TableCell>{condition(rule)}</TableCell>
                    <TableCell style={NOWRAP}>{rule.severity}</TableCell>
                    <TableCell>
                      <StatusChip status={rule.state} />
                      {rule.silencedUntil && (
                        <Typography variant="caption" display="block">
                          silenced until {time(rule.silencedUntil)}
                        </Typography>
                      )}
                    </TableCell>
                    <TableCell>{time(rule.since)}</TableCell>
                    <TableCell>
                      {rule.value === null
                        ? '—'
                        : Number(rule.value.toPrecision(4))}
                    </TableCell>
                    <TableCell style={NOWRAP}>{sourceLabel(rule)}</TableCell>
                    <TableCell align="right" style={NOWRAP}>
                      {rule.silencedUntil ? (
                        <ActionButton
                          decision={permissions.updateAlerts}
                          size="small"
                          onClick={() => unsilence(rule.name)}
                        >
                          Unsilence
                        </ActionButton>
                      ) : (
                        <ActionButton
                          decision={permissions.updateAlerts}
                          size="small"
                          onClick={() => setSilencing(rule.name)}
                        >
                          Silence
                        </ActionButton>
                      )}
                      <ActionButton
                        decision={permissions.updateAlerts}
                        size="small"
                        aria-label={`Edit ${rule.name}`}
                        onClick={() =>
                          setEditing(
                            rule.source === 'api'
                              ? own
                              : [...own, ruleBody(rule)],
                          )
                        }
                      >
                        Edit
                      </ActionButton>
                    </TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
          <Box mt={3}>
            <Typography variant="subtitle2" gutterBottom>
              History
            </Typography>
            {alerts.value.history.items.length === 0 ? (
              <Typography variant="body2" color="textSecondary">
                No rule has changed state yet.
              </Typography>
            ) : (
              <Table size="small" aria-label="Alert history">
                <TableHead>
                  <TableRow>
                    <TableCell style={NOWRAP}>When</TableCell>
                    <TableCell style={NOWRAP}>Rule</TableCell>
                    <TableCell style={NOWRAP}>State</TableCell>
                    <TableCell style={NOWRAP}>Value</TableCell>
                    <TableCell style={NOWRAP}>Seen by</TableCell>
                    <TableCell style={NOWRAP}>Owner notified</TableCell>
                  </TableRow>
                </TableHead>
                <TableBody>
                  {alerts.value.history.items.map(entry => (
                    <TableRow key={entry.id}>
                      <TableCell>{time(entry.at)}</TableCell>
                      <TableCell>{entry.rule}</TableCell>
                      <TableCell>
                        <StatusChip status={entry.state} />
                      </TableCell>
                      <TableCell>
                        {entry.value === null
                          ? '—'
                          : Number(entry.value.toPrecision(4))}
                      </TableCell>
                      <TableCell>{entry.source}</TableCell>
                      <TableCell>{notifiedLabel(entry)}</TableCell>
                    </TableRow>
                  ))}
                </TableBody>
              </Table>
            )}
          </Box>
        </>
      )}
      {editing && (
        <EditRulesDialog
          initial={editing}
          onClose={() => setEditing(undefined)}
          onSave={async updated => {
            await api.updateModelAlerts(modelRef, updated);
            setEditing(undefined);
            void alerts.refresh();
          }}
        />
      )}
      {silencing && (
        <SilenceDialog
          rule={silencing}
          onClose={() => setSilencing(undefined)}
          onSilence={async duration => {
            await api.silenceAlert(modelRef, silencing, duration);
            setSilencing(undefined);
            void alerts.refresh();
          }}
        />
      )}
    </InfoCard>
  );
}
