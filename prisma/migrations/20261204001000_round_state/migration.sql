-- AlterTable
ALTER TABLE "Federation" ADD COLUMN     "detectorState" JSONB,
ADD COLUMN     "reputationState" JSONB;

-- AlterTable
ALTER TABLE "Round" ADD COLUMN     "finalizedAt" TIMESTAMP(3);
