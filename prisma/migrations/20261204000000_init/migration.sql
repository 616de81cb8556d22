-- CreateEnum
CREATE TYPE "FederationStatus" AS ENUM ('created', 'running', 'completed', 'stopped');

-- CreateEnum
CREATE TYPE "RoundStatus" AS ENUM ('open', 'collecting', 'aggregating', 'published', 'failed');

-- CreateEnum
CREATE TYPE "ClientStatus" AS ENUM ('active', 'quarantined', 'revoked');

-- CreateEnum
CREATE TYPE "UpdateStatus" AS ENUM ('accepted', 'rejected', 'excluded');

-- CreateEnum
CREATE TYPE "EventType" AS ENUM ('authentication', 'cryptographic', 'anomaly_detection', 'aggregation', 'operator_action', 'system');

-- CreateEnum
CREATE TYPE "Severity" AS ENUM ('low', 'medium', 'high', 'critical');

-- CreateEnum
CREATE TYPE "AlertState" AS ENUM ('open', 'acknowledged', 'resolved');

-- CreateEnum
CREATE TYPE "Comparator" AS ENUM ('gt', 'gte', 'lt', 'lte', 'eq', 'ne');

-- CreateEnum
CREATE TYPE "OperatorRole" AS ENUM ('admin', 'operator', 'viewer');

-- CreateEnum
CREATE TYPE "ServerKeyKind" AS ENUM ('signing', 'kem');

-- CreateTable
CREATE TABLE "Federation" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "FederationStatus" NOT NULL DEFAULT 'created',
    "modelSpec" JSONB NOT NULL,
    "aggregationRule" TEXT NOT NULL DEFAULT 'fedavg',
    "aggregationConfig" JSONB NOT NULL DEFAULT '{}',
    "detectionConfig" JSONB NOT NULL DEFAULT '{}',
    "plannedRounds" INTEGER NOT NULL DEFAULT 10,
    "minClients" INTEGER NOT NULL DEFAULT 2,
    "roundTimeoutSeconds" INTEGER NOT NULL DEFAULT 300,
    "currentRound" INTEGER NOT NULL DEFAULT 0,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),

    CONSTRAINT "Federation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Round" (
    "id" TEXT NOT NULL,
    "federationId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "status" "RoundStatus" NOT NULL DEFAULT 'open',
    "quorum" INTEGER NOT NULL,
    "deadline" TIMESTAMP(3) NOT NULL,
    "baseModelVersionId" TEXT,
    "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closedAt" TIMESTAMP(3),
    "publishedAt" TIMESTAMP(3),
    "failureReason" TEXT,
    "testAccuracy" DOUBLE PRECISION,
    "testLoss" DOUBLE PRECISION,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Round_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Client" (
    "id" TEXT NOT NULL,
    "federationId" TEXT,
    "displayName" TEXT,
    "status" "ClientStatus" NOT NULL DEFAULT 'active',
    "reputation" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "influenceWeight" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "consecutiveAnomalies" INTEGER NOT NULL DEFAULT 0,
    "probationCleanRounds" INTEGER NOT NULL DEFAULT 0,
    "lastAnomalyScore" DOUBLE PRECISION,
    "statusReason" TEXT,
    "statusChangedAt" TIMESTAMP(3),
    "lastSeenAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Client_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Credential" (
    "id" TEXT NOT NULL,
    "serial" BIGSERIAL NOT NULL,
    "clientId" TEXT NOT NULL,
    "signingPublicKey" BYTEA NOT NULL,
    "kemPublicKey" BYTEA,
    "fingerprint" TEXT NOT NULL,
    "issuedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "revokedAt" TIMESTAMP(3),
    "revocationReason" TEXT,
    "serverSignature" BYTEA NOT NULL,
    "replacedById" TEXT,
    "serverGeneratedKeys" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "Credential_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EnrollmentToken" (
    "id" TEXT NOT NULL,
    "tokenHash" TEXT NOT NULL,
    "clientId" TEXT,
    "federationId" TEXT,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "usedAt" TIMESTAMP(3),
    "usedByClientId" TEXT,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "EnrollmentToken_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "KeySession" (
    "id" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "credentialId" TEXT NOT NULL,
    "encryptedSessionKey" BYTEA NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "maxUpdates" INTEGER NOT NULL,
    "updatesUsed" INTEGER NOT NULL DEFAULT 0,
    "closedAt" TIMESTAMP(3),

    CONSTRAINT "KeySession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServerKey" (
    "id" TEXT NOT NULL,
    "kind" "ServerKeyKind" NOT NULL,
    "publicKey" BYTEA NOT NULL,
    "encryptedSecretKey" BYTEA NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ServerKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelVersion" (
    "id" TEXT NOT NULL,
    "federationId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "roundId" TEXT,
    "manifest" JSONB NOT NULL,
    "weights" BYTEA NOT NULL,
    "digest" TEXT NOT NULL,
    "signature" BYTEA NOT NULL,
    "metrics" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ModelVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ModelUpdate" (
    "id" TEXT NOT NULL,
    "roundId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "nonce" BYTEA NOT NULL,
    "digest" TEXT NOT NULL,
    "sizeBytes" INTEGER NOT NULL,
    "baseModelVersion" INTEGER NOT NULL,
    "payload" BYTEA NOT NULL,
    "numSamples" INTEGER,
    "reportedLoss" DOUBLE PRECISION,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "status" "UpdateStatus" NOT NULL DEFAULT 'accepted',
    "reason" TEXT,
    "influenceWeight" DOUBLE PRECISION,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decidedAt" TIMESTAMP(3),

    CONSTRAINT "ModelUpdate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AnomalyScore" (
    "id" TEXT NOT NULL,
    "updateId" TEXT NOT NULL,
    "roundId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "isAnomalous" BOOLEAN NOT NULL,
    "featureNames" JSONB NOT NULL,
    "featureValues" JSONB NOT NULL,
    "shapValues" JSONB NOT NULL,
    "expectedValue" DOUBLE PRECISION NOT NULL,
    "explanation" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AnomalyScore_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReputationSnapshot" (
    "id" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "roundId" TEXT NOT NULL,
    "reputation" DOUBLE PRECISION NOT NULL,
    "influenceWeight" DOUBLE PRECISION NOT NULL,
    "quarantined" BOOLEAN NOT NULL,
    "consecutiveAnomalies" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReputationSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SecurityEvent" (
    "sequence" BIGSERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "type" "EventType" NOT NULL,
    "severity" "Severity" NOT NULL,
    "clientId" TEXT,
    "operatorId" TEXT,
    "description" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "timestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "SecurityEvent_pkey" PRIMARY KEY ("sequence")
);

-- CreateTable
CREATE TABLE "MetricPoint" (
    "id" BIGSERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "timestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "labels" JSONB NOT NULL DEFAULT '{}',

    CONSTRAINT "MetricPoint_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AlertRule" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "comparator" "Comparator" NOT NULL DEFAULT 'gt',
    "threshold" DOUBLE PRECISION NOT NULL,
    "severity" "Severity" NOT NULL DEFAULT 'medium',
    "forSeconds" INTEGER NOT NULL DEFAULT 0,
    "labels" JSONB NOT NULL DEFAULT '{}',
    "description" TEXT,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "pendingSince" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "AlertRule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Alert" (
    "id" TEXT NOT NULL,
    "ruleId" TEXT,
    "fingerprint" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "severity" "Severity" NOT NULL,
    "state" "AlertState" NOT NULL DEFAULT 'open',
    "labels" JSONB NOT NULL DEFAULT '{}',
    "value" DOUBLE PRECISION,
    "count" INTEGER NOT NULL DEFAULT 1,
    "firstSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledgedAt" TIMESTAMP(3),
    "acknowledgedById" TEXT,
    "acknowledgementNote" TEXT,
    "resolvedAt" TIMESTAMP(3),
    "resolvedById" TEXT,
    "resolutionNote" TEXT,
    "autoResolved" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "Alert_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT,
    "passwordHash" TEXT NOT NULL,
    "role" "OperatorRole" NOT NULL DEFAULT 'viewer',
    "disabled" BOOLEAN NOT NULL DEFAULT false,
    "emailVerified" TIMESTAMP(3),
    "image" TEXT,
    "lastLoginAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Account" (
    "id" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "providerAccountId" TEXT NOT NULL,
    "refresh_token" TEXT,
    "access_token" TEXT,
    "expires_at" INTEGER,
    "token_type" TEXT,
    "scope" TEXT,
    "id_token" TEXT,
    "session_state" TEXT,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "sessionToken" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "expires" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VerificationToken" (
    "identifier" TEXT NOT NULL,
    "token" TEXT NOT NULL,
    "expires" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "VerificationToken_pkey" PRIMARY KEY ("identifier","token")
);

-- CreateTable
CREATE TABLE "Setting" (
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "updatedById" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Setting_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "WorkerHeartbeat" (
    "id" TEXT NOT NULL,
    "hostname" TEXT NOT NULL,
    "pid" INTEGER NOT NULL,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastBeatAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stoppedAt" TIMESTAMP(3),
    "lastPingSentAt" TIMESTAMP(3),
    "lastPingHandledAt" TIMESTAMP(3),

    CONSTRAINT "WorkerHeartbeat_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Federation_name_key" ON "Federation"("name");

-- CreateIndex
CREATE INDEX "Federation_status_idx" ON "Federation"("status");

-- CreateIndex
CREATE INDEX "Round_status_deadline_idx" ON "Round"("status", "deadline");

-- CreateIndex
CREATE UNIQUE INDEX "Round_federationId_number_key" ON "Round"("federationId", "number");

-- CreateIndex
CREATE INDEX "Client_federationId_status_idx" ON "Client"("federationId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "Credential_serial_key" ON "Credential"("serial");

-- CreateIndex
CREATE UNIQUE INDEX "Credential_replacedById_key" ON "Credential"("replacedById");

-- CreateIndex
CREATE INDEX "Credential_clientId_expiresAt_idx" ON "Credential"("clientId", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "EnrollmentToken_tokenHash_key" ON "EnrollmentToken"("tokenHash");

-- CreateIndex
CREATE INDEX "EnrollmentToken_expiresAt_idx" ON "EnrollmentToken"("expiresAt");

-- CreateIndex
CREATE INDEX "KeySession_clientId_expiresAt_idx" ON "KeySession"("clientId", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "ServerKey_fingerprint_key" ON "ServerKey"("fingerprint");

-- CreateIndex
CREATE INDEX "ServerKey_kind_active_idx" ON "ServerKey"("kind", "active");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_roundId_key" ON "ModelVersion"("roundId");

-- CreateIndex
CREATE UNIQUE INDEX "ModelVersion_federationId_version_key" ON "ModelVersion"("federationId", "version");

-- CreateIndex
CREATE INDEX "ModelUpdate_roundId_status_idx" ON "ModelUpdate"("roundId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "ModelUpdate_clientId_nonce_key" ON "ModelUpdate"("clientId", "nonce");

-- CreateIndex
CREATE UNIQUE INDEX "ModelUpdate_roundId_clientId_key" ON "ModelUpdate"("roundId", "clientId");

-- CreateIndex
CREATE UNIQUE INDEX "AnomalyScore_updateId_key" ON "AnomalyScore"("updateId");

-- CreateIndex
CREATE INDEX "AnomalyScore_clientId_createdAt_idx" ON "AnomalyScore"("clientId", "createdAt");

-- CreateIndex
CREATE INDEX "AnomalyScore_roundId_idx" ON "AnomalyScore"("roundId");

-- CreateIndex
CREATE INDEX "ReputationSnapshot_roundId_idx" ON "ReputationSnapshot"("roundId");

-- CreateIndex
CREATE UNIQUE INDEX "ReputationSnapshot_clientId_roundId_key" ON "ReputationSnapshot"("clientId", "roundId");

-- CreateIndex
CREATE UNIQUE INDEX "SecurityEvent_id_key" ON "SecurityEvent"("id");

-- CreateIndex
CREATE UNIQUE INDEX "SecurityEvent_prevHash_key" ON "SecurityEvent"("prevHash");

-- CreateIndex
CREATE UNIQUE INDEX "SecurityEvent_hash_key" ON "SecurityEvent"("hash");

-- CreateIndex
CREATE INDEX "SecurityEvent_timestamp_type_idx" ON "SecurityEvent"("timestamp", "type");

-- CreateIndex
CREATE INDEX "SecurityEvent_type_timestamp_idx" ON "SecurityEvent"("type", "timestamp");

-- CreateIndex
CREATE INDEX "SecurityEvent_severity_timestamp_idx" ON "SecurityEvent"("severity", "timestamp");

-- CreateIndex
CREATE INDEX "SecurityEvent_clientId_timestamp_idx" ON "SecurityEvent"("clientId", "timestamp");

-- CreateIndex
CREATE INDEX "MetricPoint_name_timestamp_idx" ON "MetricPoint"("name", "timestamp");

-- CreateIndex
CREATE UNIQUE INDEX "AlertRule_name_key" ON "AlertRule"("name");

-- CreateIndex
CREATE INDEX "Alert_state_severity_idx" ON "Alert"("state", "severity");

-- CreateIndex
CREATE INDEX "Alert_fingerprint_state_idx" ON "Alert"("fingerprint", "state");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE UNIQUE INDEX "Account_provider_providerAccountId_key" ON "Account"("provider", "providerAccountId");

-- CreateIndex
CREATE UNIQUE INDEX "Session_sessionToken_key" ON "Session"("sessionToken");

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "VerificationToken_token_key" ON "VerificationToken"("token");

-- CreateIndex
CREATE INDEX "WorkerHeartbeat_lastBeatAt_idx" ON "WorkerHeartbeat"("lastBeatAt");

-- AddForeignKey
ALTER TABLE "Round" ADD CONSTRAINT "Round_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Round" ADD CONSTRAINT "Round_baseModelVersionId_fkey" FOREIGN KEY ("baseModelVersionId") REFERENCES "ModelVersion"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Client" ADD CONSTRAINT "Client_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Credential" ADD CONSTRAINT "Credential_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Credential" ADD CONSTRAINT "Credential_replacedById_fkey" FOREIGN KEY ("replacedById") REFERENCES "Credential"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "KeySession" ADD CONSTRAINT "KeySession_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_federationId_fkey" FOREIGN KEY ("federationId") REFERENCES "Federation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelVersion" ADD CONSTRAINT "ModelVersion_roundId_fkey" FOREIGN KEY ("roundId") REFERENCES "Round"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelUpdate" ADD CONSTRAINT "ModelUpdate_roundId_fkey" FOREIGN KEY ("roundId") REFERENCES "Round"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ModelUpdate" ADD CONSTRAINT "ModelUpdate_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnomalyScore" ADD CONSTRAINT "AnomalyScore_updateId_fkey" FOREIGN KEY ("updateId") REFERENCES "ModelUpdate"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnomalyScore" ADD CONSTRAINT "AnomalyScore_roundId_fkey" FOREIGN KEY ("roundId") REFERENCES "Round"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AnomalyScore" ADD CONSTRAINT "AnomalyScore_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReputationSnapshot" ADD CONSTRAINT "ReputationSnapshot_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReputationSnapshot" ADD CONSTRAINT "ReputationSnapshot_roundId_fkey" FOREIGN KEY ("roundId") REFERENCES "Round"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Alert" ADD CONSTRAINT "Alert_ruleId_fkey" FOREIGN KEY ("ruleId") REFERENCES "AlertRule"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Account" ADD CONSTRAINT "Account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
