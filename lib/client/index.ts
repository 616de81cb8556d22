/**
 * The QSFL-CAAD client SDK: enrollment, post-quantum sessions, verified model downloads, sealed
 * update uploads with retries, and the participant loop that the qsfl-client CLI runs.
 */

export {
  ClientError,
  ServerRejectedError,
  StateError,
  TransportError,
  VerificationError,
  type VerificationSubject,
} from "./errors";
export {
  type AttackConfig,
  type ParticipantOptions,
  type ParticipantSummary,
  type ProgressEvent,
  runParticipant,
} from "./participant";
export {
  assertRetryPolicy,
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
} from "./retry";
export {
  type ClientLogger,
  type EnrollmentSummary,
  type FederationStatus,
  QSFLClient,
  type QSFLClientOptions,
  type RoundInfo,
  type RoundStatus,
  type ServerPublicKeys,
  type SessionSummary,
  type SubmitResult,
  type UpdateSubmission,
  type VerifiedModel,
} from "./sdk";
export { type ClientState, CREDENTIAL_FILE, KEYS_FILE, readState } from "./state";
