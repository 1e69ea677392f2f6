// Every data call goes to the service's `/api` with the bearer token kept for this tab. When the API answers 401, the
// page asks for the token once (however many calls were refused) and sends the calls again.

const TOKEN_KEY = 'job-scheduler.token';

/** A refusal from the API: its Radix `Status` body. */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

let asking: Promise<void> | undefined;

/** `fetch` with the token; on 401 asks for a (new) token and tries again. */
export async function api(path: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const headers = new Headers(init.headers);
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    const response = await fetch(path, { ...init, headers });
    if (response.status !== 401) return response;
    await response.body?.cancel();
    asking ??= askForToken(token !== null).finally(() => (asking = undefined));
    await asking;
  }
}

/** A JSON read; a refusal is thrown as an {@link ApiFailure}. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<{ body: T; next: string | null }> {
  const response = await api(path, { signal });
  if (!response.ok) throw await failure(response);
  return { body: (await response.json()) as T, next: response.headers.get('X-Continue') };
}

/** A POST without a body (stop, restart, rerun). */
export async function post<T>(path: string): Promise<T> {
  const response = await api(path, { method: 'POST' });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** The refusal in a response: the Status body's message, or the HTTP status when there is none. */
export async function failure(response: Response): Promise<ApiFailure> {
  try {
    const body = (await response.json()) as { message?: string; reason?: string };
    return new ApiFailure(response.status, body.message ?? response.statusText, body.reason ?? '');
  } catch {
    return new ApiFailure(response.status, `the service answered ${response.status} ${response.statusText}`, '');
  }
}

/** Query text from a map, leaving out empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

function askForToken(refused: boolean): Promise<void> {
  const dialog = document.getElementById('token-dialog') as HTMLDialogElement;
  const form = dialog.querySelector('form')!;
  const input = dialog.querySelector<HTMLInputElement>('#token')!;
  const hint = dialog.querySelector<HTMLElement>('#token-hint')!;
  hint.textContent = refused ? 'The service refused that token. Enter a valid one.' : 'The service asks for its API token.';
  input.value = '';
  if (!dialog.open) dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    form.addEventListener(
      'submit',
      (event) => {
        event.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        input.value = '';
        dialog.close();
        resolve();
      },
      { once: true },
    );
  });
}
