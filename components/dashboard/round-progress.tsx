import type { RoundProgress } from "@/lib/dashboard/federations";
import { Badge } from "../ui/badge";
import { Countdown } from "../ui/countdown";

/** Shows the current round: updates received against the quorum, and the time left to its deadline. */
export function RoundProgressPanel({
  round,
  plannedRounds,
}: {
  round: RoundProgress;
  plannedRounds: number;
}) {
  return (
    <div className="round-progress" data-testid="round-progress">
      <p>
        Round {round.number} of {plannedRounds} <Badge value={round.status} />
      </p>
      <label htmlFor={`progress-${round.id}`}>
        Updates received: <span data-testid="updates-received">{round.updatesReceived}</span> of{" "}
        {round.quorum} (quorum)
      </label>
      <progress
        id={`progress-${round.id}`}
        max={round.quorum}
        value={Math.min(round.updatesReceived, round.quorum)}
      />
      <p className="muted">
        Deadline: <Countdown deadline={round.deadline} />
      </p>
    </div>
  );
}
