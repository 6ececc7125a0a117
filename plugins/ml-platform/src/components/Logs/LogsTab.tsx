import { Progress, ResponseErrorPanel } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import {
  ModelLogLevel,
  ModelLogLine,
  ModelLogQuery,
  ModelLogSource,
} from '@internal/plugin-ml-platform-common';
import Box from '@material-ui/core/Box';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import MenuItem from '@material-ui/core/MenuItem';
import Paper from '@material-ui/core/Paper';
import Switch from '@material-ui/core/Switch';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { useEffect, useRef, useState } from 'react';
import { mlPlatformApiRef } from '../../api';
import { POLL_INTERVAL_MS, useModelRef, useVisibleInterval } from '../../hooks';
import { formatTime } from '../../lib/format';

/** Lines the view keeps; older ones scroll away while following. */
export const MAX_LOG_VIEW_LINES = 2000;

const useStyles = makeStyles(theme => ({
  lines: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-all',
    maxHeight: '60vh',
    overflow: 'auto',
    padding: theme.spacing(1),
  },
  error: { color: theme.palette.error.main },
  warn: { color: theme.palette.warning.main },
  debug: { color: theme.palette.text.secondary },
  info: {},
}));

const SOURCES: [string, string][] = [
  ['', 'All sources'],
  ['build', 'Builds'],
  ['deployment', 'Deployments'],
  ['execution', 'Executions'],
];

const LEVELS: [string, string][] = [
  ['', 'Any level'],
  ['info', 'Info and above'],
  ['warn', 'Warnings and errors'],
  ['error', 'Errors'],
];

/**
 * Search the model's build, deployment and execution logs by source,
 * level and text; follow mode polls for new lines and keeps the view at
 * the bottom.
 */
export function LogsTab() {
  const classes = useStyles();
  const ref = useModelRef();
  const api = useApi(mlPlatformApiRef);
  const [source, setSource] = useState<ModelLogSource>();
  const [level, setLevel] = useState<ModelLogLevel>();
  const [text, setText] = useState('');
  const [follow, setFollow] = useState(false);
  const [lines, setLines] = useState<ModelLogLine[]>();
  const [error, setError] = useState<Error>();
  const lastId = useRef(0);
  const view = useRef<HTMLDivElement>(null);

  const query: ModelLogQuery = { source, level, q: text || undefined };
  const key = JSON.stringify(query);

  useEffect(() => {
    let current = true;
    setLines(undefined);
    api
      .searchLogs(ref, JSON.parse(key))
      .then(page => {
        if (!current) return;
        lastId.current = page.lastId;
        setLines(page.items);
        setError(undefined);
      })
      .catch(e => current && setError(e));
    return () => {
      current = false;
    };
  }, [api, ref, key]);

  useVisibleInterval(
    async () => {
      try {
        const page = await api.searchLogs(ref, {
          ...JSON.parse(key),
          after: lastId.current,
        });
        lastId.current = page.lastId;
        if (page.items.length > 0) {
          setLines(previous =>
            [...(previous ?? []), ...page.items].slice(-MAX_LOG_VIEW_LINES),
          );
        }
      } catch (e) {
        setError(e as Error);
      }
    },
    follow && lines !== undefined ? POLL_INTERVAL_MS : null,
  );

  useEffect(() => {
    if (follow && view.current) {
      view.current.scrollTop = view.current.scrollHeight;
    }
  }, [follow, lines]);

  return (
    <>
      <Box display="flex" flexWrap="wrap" alignItems="center" mb={2}>
        <Box mr={2} minWidth={160}>
          <TextField
            select
            fullWidth
            id="ml-platform-logs-source"
            label="Source"
            value={source ?? ''}
            onChange={e =>
              setSource((e.target.value || undefined) as ModelLogSource)
            }
          >
            {SOURCES.map(([value, label]) => (
              <MenuItem key={value} value={value}>
                {label}
              </MenuItem>
            ))}
          </TextField>
        </Box>
        <Box mr={2} minWidth={180}>
          <TextField
            select
            fullWidth
            id="ml-platform-logs-level"
            label="Level"
            value={level ?? ''}
            onChange={e =>
              setLevel((e.target.value || undefined) as ModelLogLevel)
            }
          >
            {LEVELS.map(([value, label]) => (
              <MenuItem key={value} value={value}>
                {label}
              </MenuItem>
            ))}
          </TextField>
        </Box>
        <Box mr={2} flexGrow={1} maxWidth={360}>
          <TextField
            fullWidth
            id="ml-platform-logs-search"
            label="Search"
            placeholder="e.g. Traceback"
            value={text}
            onChange={e => setText(e.target.value)}
          />
        </Box>
        <FormControlLabel
          control={
            <Switch
              checked={follow}
              onChange={e => setFollow(e.target.checked)}
              color="primary"
            />
          }
          id="ml-platform-logs-follow"
          label="Follow"
        />
      </Box>
      {error && <ResponseErrorPanel error={error} />}
      {lines === undefined && !error && <Progress />}
      {lines && (
        <Paper variant="outlined">
          <div className={classes.lines} ref={view} aria-label="Log lines">
            {lines.length === 0 && (
              <Typography variant="body2" color="textSecondary">
                No matching lines: build or deploy the model, or change the
                filters.
              </Typography>
            )}
            {lines.map(l => (
              <div key={l.id} className={classes[l.level]} data-level={l.level}>
                {`${formatTime(l.time)} [${l.source} v${l.version}${
                  l.stream ? ` ${l.stream}` : ''
                }] ${l.line}`}
              </div>
            ))}
          </div>
        </Paper>
      )}
    </>
  );
}
