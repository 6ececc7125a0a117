import { InfoCard, Link } from '@backstage/core-components';
import { ModelBuild } from '@internal/plugin-ml-platform-common';
import Typography from '@material-ui/core/Typography';
import { useSectionLink } from '../../hooks';
import { formatTime } from '../../lib/format';
import { CommitLink } from '../CommitLink';
import { StatusChip } from '../StatusChip';

/** The newest build, whatever its outcome. */
export function LatestBuildCard(props: { build?: ModelBuild }) {
  const b = props.build;
  const sectionLink = useSectionLink();
  if (!b) {
    return (
      <InfoCard title="Latest build">
        <Typography paragraph>Never built.</Typography>
        <Link to={sectionLink({ tab: 'builds' })}>Build the model</Link>
      </InfoCard>
    );
  }
  return (
    <InfoCard
      title="Latest build"
      deepLink={{
        title: `Open build v${b.version}`,
        link: sectionLink({ tab: 'builds', build: b.id }),
      }}
    >
      <Typography variant="h6" component="div">
        v{b.version} <StatusChip status={b.status} />
      </Typography>
      <Typography variant="body1">
        {b.branch && <>{b.branch} @ </>}
        <CommitLink sha={b.commitSha} message={b.commitMessage} />{' '}
        {b.commitMessage}
      </Typography>
      <Typography variant="body2" color="textSecondary">
        {b.trigger} · {formatTime(b.createdAt)}
      </Typography>
      {b.failureReason && (
        <Typography variant="body2" color="error">
          {b.failureReason}
        </Typography>
      )}
    </InfoCard>
  );
}
