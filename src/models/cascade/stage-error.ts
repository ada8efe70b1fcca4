/**
 * Stage failures of the cascade. A remote stage that times out, answers 4xx/5xx or sends a
 * malformed stream fails with VW_ERR_STAGE_FAILED carrying the stage's name in `.stage`, so the
 * session, the logs and the tests can tell which stage broke without reading message text.
 */
import { isVoicewireError, vwError, type VoicewireError } from '../../errors.js';

/** The stages of one cascade turn, in pipeline order ('turn': a failure outside any stage). */
export type CascadeStage = 'vad' | 'stt' | 'llm' | 'sentences' | 'tts' | 'send' | 'turn';

/** VW_ERR_STAGE_FAILED with the failing stage attached. */
export type StageError = VoicewireError & { readonly stage: CascadeStage; readonly cause?: unknown };

export function stageError(stage: CascadeStage, reason: string, cause?: unknown): StageError {
  const error = vwError('VW_ERR_STAGE_FAILED', stage, reason);
  return Object.assign(error, { stage, cause });
}

export function isStageError(err: unknown): err is StageError {
  return isVoicewireError(err, 'VW_ERR_STAGE_FAILED') && typeof (err as { stage?: unknown }).stage === 'string';
}

/**
 * Wraps any failure of `stage` as a StageError (a StageError of another stage is kept as it is:
 * the first stage to fail is the one reported).
 */
export function toStageError(stage: CascadeStage, err: unknown): StageError {
  if (isStageError(err)) return err;
  if (isVoicewireError(err)) return stageError(stage, `${err.code}: ${err.message}`, err);
  if (err instanceof Error) return stageError(stage, `${err.name}: ${err.message}`, err);
  return stageError(stage, String(err), err);
}
