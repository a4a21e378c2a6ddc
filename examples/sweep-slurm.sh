#!/bin/bash
# Example: a shardcast sweep split over the tasks of a Slurm job array, then
# joined by `shardcast merge`.
#
# Each array task runs one partition: task I of indices 1..N runs
# --partition I/N and writes sweep-parts/part-I in the directory the job was
# submitted from (on a file system every node sees). Submit the array, then
# a merge that starts when every task has succeeded:
#
#   jobid=$(sbatch --parsable examples/sweep-slurm.sh)
#   sbatch --dependency=afterok:"$jobid" --wrap 'shardcast merge sweep-parts/part-* --out sweep'
#
# shardcast must be on the PATH of every node (cargo install --locked --path
# . from a checkout, on a shared file system), the same build everywhere:
# merge checks the scenario's MD5 and the shardcast version of every part.
#SBATCH --job-name=shardcast-sweep
#SBATCH --array=1-4
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail

shardcast sweep scenarios/small-records.toml \
    --set stream.shards=2..16 --set producers.sensors.rate=3000/s,4400/s -r 5 \
    --threads "$SLURM_CPUS_PER_TASK" \
    --partition "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
    --out "sweep-parts/part-$SLURM_ARRAY_TASK_ID"
