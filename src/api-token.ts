/** What `JOB_SCHEDULER_API_TOKEN_FILE` holds, as main.ts read it, or why it could not be read. */
export type TokenFile = { text: string } | { error: string };

/**
 * The token from `JOB_SCHEDULER_API_TOKEN` or the file `JOB_SCHEDULER_API_TOKEN_FILE` names. A token
 * that is set but blank (an empty Secret, a file holding a newline) would turn auth off unnoticed:
 * it stops start-up instead. Messages never quote the token.
 */
export function readApiToken(env: Record<string, string | undefined>, tokenFile: TokenFile | undefined, problems: string[]): string | undefined {
  const { JOB_SCHEDULER_API_TOKEN: fromEnv, JOB_SCHEDULER_API_TOKEN_FILE: file } = env;
  if (fromEnv !== undefined && file !== undefined) {
    problems.push('set JOB_SCHEDULER_API_TOKEN or JOB_SCHEDULER_API_TOKEN_FILE, not both');
    return undefined;
  }
  let token: string;
  let name: string;
  if (file !== undefined) {
    name = `JOB_SCHEDULER_API_TOKEN_FILE (${file})`;
    if (file === '' || !tokenFile || 'error' in tokenFile) {
      const why = tokenFile && 'error' in tokenFile ? ` (${tokenFile.error})` : '';
      problems.push(`${name}: cannot read the token file${why}; fix it, or unset the variable to run without auth`);
      return undefined;
    }
    token = tokenFile.text;
  } else if (fromEnv !== undefined) {
    name = 'JOB_SCHEDULER_API_TOKEN';
    token = fromEnv;
  } else {
    return undefined;
  }
  token = token.trim();
  if (token === '') {
    problems.push(`${name} is set but blank, which would leave every route open: give it a token, or unset it to run without auth`);
    return undefined;
  }
  if (/[\s\p{Cc}]/u.test(token)) {
    problems.push(`${name} holds spaces or control characters: a bearer token is one word of printable characters`);
    return undefined;
  }
  return token;
}
