import { churnEntity } from './__testUtils__';
import {
  EntityMlPlatformContent,
  MlPlatformPage,
  isMlModel,
  mlPlatformPlugin,
} from './index';

describe('ml-platform plugin (legacy frontend system)', () => {
  it('exports the page, the entity content and its route', () => {
    expect(mlPlatformPlugin.getId()).toBe('ml-platform');
    expect(MlPlatformPage).toBeDefined();
    expect(EntityMlPlatformContent).toBeDefined();
    expect(Object.keys(mlPlatformPlugin.routes)).toEqual([
      'root',
      'entityContent',
    ]);
  });

  it('isMlModel matches ml-model components only', () => {
    expect(isMlModel(churnEntity)).toBe(true);
    expect(isMlModel({ ...churnEntity, spec: { type: 'website' } })).toBe(
      false,
    );
    expect(isMlModel({ ...churnEntity, kind: 'API' })).toBe(false);
  });
});
