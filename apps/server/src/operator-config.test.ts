import { describe, expect, it } from 'vitest';
import { operatorFromEnv } from './operator-config.js';

describe('operatorFromEnv', () => {
  it('reads who runs the grid from TABGRID_OPERATOR_*', () => {
    expect(operatorFromEnv({})).toEqual({});
    expect(
      operatorFromEnv({
        TABGRID_OPERATOR_NAME: ' Example Lab ',
        TABGRID_OPERATOR_DESCRIPTION: 'Folds proteins.',
        TABGRID_OPERATOR_LINK: 'mailto:grid@example.org',
      }),
    ).toEqual({
      operator: {
        name: 'Example Lab',
        description: 'Folds proteins.',
        link: 'mailto:grid@example.org',
      },
    });
  });

  it('refuses a link or description without a name, and links a page cannot show safely', () => {
    expect(() => operatorFromEnv({ TABGRID_OPERATOR_LINK: 'https://x.org' })).toThrow(
      /without TABGRID_OPERATOR_NAME/,
    );
    expect(() =>
      operatorFromEnv({ TABGRID_OPERATOR_NAME: 'Lab', TABGRID_OPERATOR_LINK: 'javascript:x' }),
    ).toThrow(/https:\/\/, http:\/\/ or mailto:/);
    expect(() => operatorFromEnv({ TABGRID_OPERATOR_NAME: 'x'.repeat(121) })).toThrow(/1-120/);
  });
});
