/** One doctor check: what was checked, whether it passed, and what to change if not. */
export interface DoctorCheck {
  readonly id: string;
  readonly title: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Present when `ok` is false: the change that fixes it. */
  readonly fix?: string;
}

/** The deployment files doctor reads, already loaded (missing files are `undefined`). */
export interface DeploymentFiles {
  readonly env: { readonly path: string; readonly text: string | undefined };
  readonly units: readonly { readonly path: string; readonly text: string }[];
  readonly nginx: { readonly path: string; readonly text: string | undefined };
}

/** Extra margin doctor wants between the app's worst-case shutdown and systemd's SIGKILL. */
export const STOP_MARGIN_MS = 2000;
