import { InfoCard, Link } from '@backstage/core-components';
import {
  ModelBuild,
  ModelDeployment,
} from '@internal/plugin-ml-platform-common';
import Typography from '@material-ui/core/Typography';
import { useSectionLink } from '../../hooks';
import { formatTime } from '../../lib/format';
import { StatusChip } from '../StatusChip';

/** The online deployment answering predictions now, if any. */
export function LiveDeploymentCard(props: {
  deployment?: ModelDeployment;
  build?: ModelBuild;
}) {
  const { deployment: d, build } = props;
  const deploymentsLink = useSectionLink()({ tab: 'deployments' });
  if (!d) {
    return (
      <InfoCard title="Online deployment">
        <Typography paragraph>
          Not deployed online: predictions answer 503 until a build is deployed.
        </Typography>
        <Link to={deploymentsLink}>Deploy a build</Link>
      </InfoCard>
    );
  }
  return (
    <InfoCard
      title="Online deployment"
      deepLink={{ title: 'Manage deployments', link: deploymentsLink }}
    >
      <Typography variant="h6" component="div">
        <StatusChip status={d.status} />
      </Typography>
      {d.reason && <Typography variant="body2">{d.reason}</Typography>}
      <Typography variant="body1">
        Build {build ? `v${build.version}` : d.buildId.slice(0, 8)} ·{' '}
        {d.readyReplicas}/{d.replicas} replicas ready
      </Typography>
      <Typography variant="body2" color="textSecondary">
        Scales between {d.minReplicas} and {d.maxReplicas} replicas
        {d.minReplicas === 0 && ' (to zero when idle)'}
        {d.scaledToZeroAt && `; idle since ${formatTime(d.scaledToZeroAt)}`}
      </Typography>
    </InfoCard>
  );
}
