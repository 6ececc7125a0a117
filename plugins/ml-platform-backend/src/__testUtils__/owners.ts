/**
 * The data science group and its member ada, owners of the test models
 * (`mlModelComponent`): the catalog entities the notifications backend
 * resolves an owner notification to.
 */
export function dataScienceTeam() {
  return [
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Group',
      metadata: { name: 'data-science', namespace: 'default' },
      spec: { type: 'team', children: [] },
      relations: [{ type: 'hasMember', targetRef: 'user:default/ada' }],
    },
    {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: 'ada', namespace: 'default' },
      spec: {},
      relations: [
        { type: 'memberOf', targetRef: 'group:default/data-science' },
      ],
    },
  ];
}
