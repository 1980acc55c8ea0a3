/** CLI error messages name CLI commands and flags, never REST paths or SDK calls. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, TabgridError } from '@tabgrid/protocol/errors';
import { cliMessage } from './hints.js';

const message = (code: ErrorCode, text: string) => cliMessage(new TabgridError(code, text));

describe('cliMessage', () => {
  it('turns REST and SDK hints into commands', () => {
    expect(
      message(ErrorCode.JOB_NOT_FOUND, 'No job with id j1. List your jobs with GET /api/jobs.'),
    ).toBe('No job with id j1. List your jobs with tabgrid jobs. (TG_ERR_JOB_NOT_FOUND)');
    expect(
      message(ErrorCode.KEY_NOT_FOUND, 'No key with id k1. List keys with GET /api/keys.'),
    ).toBe('No key with id k1. List keys with tabgrid keys list. (TG_ERR_KEY_NOT_FOUND)');
  });

  it('turns SDK options and job option names into flags, keeping addresses whole', () => {
    expect(
      message(
        ErrorCode.DISCONNECTED,
        'Cannot reach the Tabgrid server at http://127.0.0.1:1 (websocket error). Is it running (`npm start`)? Pass { url } or set TABGRID_URL.',
      ),
    ).toBe(
      'Cannot reach the Tabgrid server at http://127.0.0.1:1 (websocket error). Is it running (`npm start`)? Pass --url or set TABGRID_URL. (TG_ERR_DISCONNECTED)',
    );
    expect(message(ErrorCode.INVALID_REQUEST, 'setupTimeoutMs must be at most 86400000.')).toBe(
      '--setup-timeout-ms must be at most 86400000. (TG_ERR_INVALID_REQUEST)',
    );
    expect(
      message(ErrorCode.UNAUTHORIZED, 'The server refused the token: pass { token }.'),
    ).toContain('pass --token or set TABGRID_TOKEN');
  });

  it('drops a sentence that still names a REST path, and adds the hint the code needs', () => {
    const text = message(
      ErrorCode.JOB_NOT_FOUND,
      'No job j9. Read GET /api/jobs/j9/logs for its lines.',
    );
    expect(text).toBe('No job j9. List your jobs with tabgrid jobs. (TG_ERR_JOB_NOT_FOUND)');
    expect(text).not.toMatch(/\/api\//);
  });

  it('prints other errors as their message', () => {
    expect(cliMessage(new Error('EACCES: permission denied'))).toBe('EACCES: permission denied');
  });
});
