-- CreateIndex
CREATE INDEX "MetricPoint_timestamp_idx" ON "MetricPoint"("timestamp");
