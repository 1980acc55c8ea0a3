/**
 * Who runs this grid (issue 16), from the environment: TABGRID_OPERATOR_NAME (required for the
 * rest to show), TABGRID_OPERATOR_DESCRIPTION, TABGRID_OPERATOR_LINK (`https://…` or `mailto:…`).
 * Checked against the protocol's schema at start, so a bad value stops the server with a
 * sentence instead of reaching volunteers' pages.
 */
import { Value } from '@sinclair/typebox/value';
import { OperatorInfo, VOLUNTEER_LIMITS } from '@tabgrid/protocol/jobs';

export function operatorFromEnv(env: NodeJS.ProcessEnv): { operator?: OperatorInfo } {
  const name = env.TABGRID_OPERATOR_NAME?.trim() ?? '';
  const description = env.TABGRID_OPERATOR_DESCRIPTION?.trim() ?? '';
  const link = env.TABGRID_OPERATOR_LINK?.trim() ?? '';
  if (name === '') {
    if (description !== '' || link !== '') {
      throw new Error(
        'TABGRID_OPERATOR_DESCRIPTION or TABGRID_OPERATOR_LINK is set without TABGRID_OPERATOR_NAME: set the name too (volunteers see it first).',
      );
    }
    return {};
  }
  const operator: OperatorInfo = {
    name,
    ...(description === '' ? {} : { description }),
    ...(link === '' ? {} : { link }),
  };
  if (!Value.Check(OperatorInfo, operator)) {
    throw new Error(
      `TABGRID_OPERATOR_*: the name must be 1-${VOLUNTEER_LIMITS.maxNameLength} characters, the description at most ${VOLUNTEER_LIMITS.maxDescriptionLength}, and the link an https://, http:// or mailto: address without spaces.`,
    );
  }
  return { operator };
}
