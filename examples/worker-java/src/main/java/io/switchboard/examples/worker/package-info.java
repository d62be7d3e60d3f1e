/**
 * An example backend worker in Java: {@link io.switchboard.examples.worker.VotesWorker} opens the
 * Serve stream of a Switchboard node with the generated gRPC client, answers browser requests
 * ({@code GET /echo/:word}, {@code GET /votes/:room}, {@code POST /votes/:room}, {@code GET
 * /delay/:ms}) and publishes the tally of each voting room once a second ({@link
 * io.switchboard.examples.worker.Tallies}).
 */
package io.switchboard.examples.worker;
