// Package dynamostore is Haven's DynamoDB adapter: item shapes, keys,
// conditional writes and transactions. It is the only place that knows the
// table's layout. Quota is enforced here and only here, by conditions that
// DynamoDB checks atomically: there is no other lock.
//
// # Entities (one table, key pk/sk)
//
//	entity            pk                         sk                          notes
//	referral          REF#<id>                   A                           gsi1 PARTNER#<p> / <created>#<id>; gsi2 REFS / <created>#<id>;
//	                                                                         names, birth dates, asylum country, profile, contact sealed (AES-GCM under the
//	                                                                         referral's own data key, AAD = id + partner + attribute; keys.go)
//	                                                                         holds: codes of the holds on its disposition, space-separated
//	audit event       REF#<id>                   EV#<at>#<nonce>             state changes, no personal data
//	read audit        REF#<id>                   READ#<at>#<nonce>           who read the full referral
//	response link     REF#<id>                   RESP#IDEM#<caller>#<key>    an idempotency record that stored an answer about this referral
//	                                                                         (written with it, same expires_at): disposition deletes both
//	tombstone         REF#<id>                   A                           the referral item once disposed: disposed_at; only stream, period, partner,
//	                                                                         status, urgency, persons, reasons, dates (gsi keys kept: reports count it)
//	page read audit   READS#<yyyy-mm-dd>         PAGE#<at>#<nonce>           who was served a list page (actor, role, partner_scope,
//	                                                                         request_id) and the referral_ids it showed; UTC day of <at>
//	partner ref       PREF#<partner>#<ref>       A                           makes partner_reference unique per partner; released once its
//	                                                                         referral ends (withdrawn, ineligible, refused): a new referral
//	                                                                         may then take it over (its created event names the earlier one)
//	fingerprint       FP#<keyed hash>            REF#<id>                    same defender referred twice (officers only)
//	stream            STREAM#<stream>            A                           open flag, partner list
//	period            PERIOD#<stream>#<year>     A                           capacity, reserved, arrived, remaining, waitlisted_persons,
//	                                                                         reserved#<partner>, arrived#<partner> (flat: real DynamoDB
//	                                                                         cannot create a nested map and set a key in one update);
//	                                                                         allot#<partner> (allotment; -1 once removed) and left#<partner>
//	                                                                         (allotment − held: conditions cannot subtract); pool (capacity −
//	                                                                         allotments − held by partners without one); closed; version
//	                                                                         (+1 on every update); gsi1 PERIODS / <stream>#<year>
//	capacity change   PERIOD#<stream>#<year>     EV#<at>#<nonce>             who changed capacity, from and to
//	waitlist entry    WAIT#<stream>#<year>       <rank>#<created>#<id>       rank: 0 emergency, 1 urgent, 2 normal; created fixed-width
//	                                                                         (sorts as time); referral_id, partner, persons (kept equal to the
//	                                                                         referral's in the same transaction), partner_reference (for the
//	                                                                         queue entry promotion puts); no personal data
//	queue entry       REF#<id>                   QUEUE                       while the referral is in a work state (submitted, eligible,
//	                                                                         waitlisted, allocated, approved): referral_id, partner,
//	                                                                         partner_reference, urgency, persons, period, waitlist_reason;
//	                                                                         no personal data; gsi4 QUEUE#<state>#<stream>[#<year>] /
//	                                                                         <rank>#<created>#<id> (the year for the states that hold or
//	                                                                         wait for spaces), gsi3 <gsi4pk>#<partner> / the same; only queue
//	                                                                         entries carry gsi3 and gsi4 (sparse). Put (over itself) by each
//	                                                                         move within the work states, deleted by the move that leaves them
//	admissions        ADMIT#<stream>#<year>      A                           persons arrived in <year> by arrival date; partner#<p>, quota#<y>
//	                                                                         (by the period whose spaces they used); updated by the arrival
//	idempotency       IDEM#<caller>#<key>        A                           hash, response (body sealed under its referral's key, referral_id);
//	                                                                         expires_at (TTL, also checked in conditions)
//
// # The key table (KEY_TABLE_NAME, key pk; keys.go)
//
//	referral key      KEY#<id>                                               the referral's AES-256 data key, sealed by the data keyset
//	                                                                         (AAD haven/referral-key/<id>); put in the create transaction,
//	                                                                         deleted by ShredReferralKey in the disposition's transaction
//
// # Access patterns
//
//	pattern                                   how                                                     calls
//	create referral                           TransactWriteItems: idem, stream check, PREF, REF, EV, FP, KEY (key table)   1 write
//	get referral (own partner or staff)       TransactGetItems REF#<id>/A + KEY#<id> (key table), consistent; partner compared
//	                                          in code → 404; Bare reads (no sealed field) GetItem REF only   1 read
//	list a partner's referrals                Query gsi1 PARTNER#<p>, newest first; BatchGetItem the page's KEY# items
//	                                          (consistent; ≤ 100, one call unless keys are left unprocessed)   2+ reads
//	list all referrals (staff)                Query gsi2 REFS, newest first; status/stream filtered in code; the page's keys as above  2+ reads
//	shred a referral's key                    Delete KEY#<id> in the caller's TransactWriteItems (ShredReferralKey)   part of 1 write
//	re-seal old referrals (MigrateReferralKeys)  Query gsi2 REFS (a page), BatchGetItem their keys, per referral without one
//	                                          TransactWriteItems: REF (version = v; sealed fields, version + 1), KEY put   2 reads + 1 write each
//	history                                   Query REF#<id>, sk begins_with EV#                       1 read
//	audit a list page                         PutItem READS#<day>/PAGE#…: one item per page, not per referral   1 write
//	list pages that showed a referral         Query READS#<day> per day of interest; referral_ids checked in code   1+ reads/day
//	                                          (history?include=reads: the listed_days days up to listed_to, ≤ 31, from the
//	                                          referral's creation on)
//	                                          Trade-off: one write per page (up to 100 referrals) instead of one per
//	                                          referral keeps listing cheap, at the price of per-referral lookups being
//	                                          by day, not by key: an audit names the days it asks about. A READ#
//	                                          item per referral would make it a key lookup but cost up to 4
//	                                          BatchWriteItem calls and 100 writes per page. One partition a day takes
//	                                          every page write of that day: far below a partition's 1,000 writes/s.
//	duplicate-referral                        condition on PREF#; on failure GetItem PREF# for the id   1 write (+1 read on conflict)
//	possible duplicates                       Query FP#<hash>                                          1 read
//	period view                               GetItem PERIOD#<s>#<y>/A                                 1 read
//	set capacity and allotments               GetItem period; TransactWriteItems: idem, stream check, period (version = v; capacity,
//	                                          remaining, pool, allot#/left# written whole from the read), EV   1 read + 1 write
//	state change (lifecycle.go)               TransactGetItems REF + KEY (consistent), GetItem period when the move takes or gives back spaces,
//	                                          quota.Decide, then TransactWriteItems: idem, REF (status = from AND version = v),
//	                                          period (the decision's condition: remaining ≥ n AND left#<p> or pool ≥ n AND not closed,
//	                                          allot#<p> as decided; counters, reserved#<p>/arrived#<p> via if_not_exists, left#<p> or
//	                                          pool, version + 1), WAIT put/delete/resize, EV   1–2 reads + 1 write
//	allocation that does not fit              the same write, decided as a waitlisting: period condition "still does not fit for
//	                                          this reason" (stream-full: remaining < n, or pool < n; partner-allotment-full:
//	                                          remaining ≥ n AND left#<p> < n), WAIT put, REF waitlist_reason   1–2 reads + 1 write
//	family change                             as state change; REF re-sealed pii_people + persons; WAIT persons   1–2 reads + 1 write
//	promote waitlist (after a release, sweep) GetItem period; Query WAIT#<s>#<y>; quota.Promotable; per pick quota.Decide and
//	                                          TransactWriteItems: period (its condition), REF (status waitlisted AND persons = n AND
//	                                          period = y), WAIT delete, EV   2 reads + 1 write each
//	close a period (closure.go)               GetItem period, Query WAIT; TransactWriteItems period closed + EV; per waiting referral
//	                                          GetItem REF, quota.Decide (carry-over), TransactWriteItems: REF (status, version), target
//	                                          period (not closed; waitlisted + n), source period (waitlisted − n), WAIT delete + put
//	                                          (same sort key under the target), EV carried-over; then the idempotency record   1+2n reads, 2+n writes
//	admissions of a year                      GetItem ADMIT#<s>#<y>                                    1 read
//	personal data (shared/access)             the access-request hold (as above), GetItem REF (whole), PutItem READ#, Query FP#,
//	                                          Query REF#<id> (history and reads), Query READS#<day> per day since creation   3+days reads, 2 writes
//	dispose (disposition.go)                  Query gsi1 STREAMS, Query gsi2 REFS (bare: holds, disposed_at); per referral
//	                                          retention.Decide; if due: GetItem REF (consistent, decided again), Query REF#<id>
//	                                          sk ≥ READ# (keys), GetItem PREF; TransactWriteItems: Put tombstone (version = v AND
//	                                          not disposed), EV disposed, Delete of its data key (key table), Delete QUEUE, FP, READ#…, RESP#… and
//	                                          their IDEM#…, PREF (referral_id = id). Over 100 items: oldest deletions first, in
//	                                          transactions each with a ConditionCheck on the version   2 reads + 3 reads, 1 write each
//	set or lift a hold (holds.go)             GetItem REF (consistent), retention.ChangeHolds; TransactWriteItems: idem,
//	                                          REF (holds, version + 1; condition version = v; updated_at kept), EV per hold
//	                                          set or lifted (a disposition that read the referral before fails)   1 read + 1 write
//	end a referral (withdraw, refuse, ineligible)  the state change's transaction + PREF (referral_id = id) SET released
//	create over a released reference          the create transaction fails on PREF; GetItem PREF; again with PREF condition
//	                                          released AND referral_id = earlier                       1 read + 2 writes
//	list periods (sweep, reports)             Query gsi1 PERIODS (gsi1sk <stream>#<year>)                1+ reads
//	waitlist in order                         Query WAIT#<s>#<y> ascending                             1+ reads
//	work queue page (officers' workspace)     Query gsi4 QUEUE#<state>#<stream>[#<year>] ascending: emergency first,
//	                                          then oldest (the waitlist's order); Limit = page size, or on a first
//	                                          page MaxQueueCount (100): the rows past the page are only counted, by
//	                                          urgency, for the filters' counts ("100+" beyond); urgency filter:
//	                                          gsi4sk begins_with <rank>#; partner filter: the same on gsi3
//	                                          <gsi4pk>#<partner>. Cursor = the last entry's keys   1 read per page
//	                                          Trade-off: an entry per referral instead of sparse index attributes on
//	                                          the referral item: leaving the queues would REMOVE them, which the
//	                                          embedded server ignores. The entry is ~0.3 KB with no personal data, so
//	                                          a page unseals nothing; each move puts it (one more action in the move's
//	                                          transaction, the same key every time) and the move that ends the work
//	                                          deletes it. Two GSIs (gsi3, gsi4) of DynamoDB's 20 serve five queues; a
//	                                          GSI per state would cost five (ten with the partner filter) and write
//	                                          the same items. Indexes are eventually consistent: a page may lag a move
//	                                          by a moment; the case page reads the referral itself.
//	lookup by partner reference               GetItem PREF#<partner>#<ref>                             1 read
//
// Lists filter in code rather than with a FilterExpression so that Limit
// means the same on every DynamoDB implementation (the embedded server gets
// Limit with a filter wrong), and a cursor names exactly the last item served.
//
// # DynamoDB's limits
//
// The embedded server refuses what DynamoDB refuses (infra/embedded:
// items over 400 KB, transactions over 100 actions or 4 MB, long
// expressions and keys) and cuts pages at 1 MB, so a test meets a limit
// before AWS does.
// Haven's worst cases, measured through the steps by
// shared/api.TestWithinDynamoDBLimits (the largest referral the API
// accepts: 30 family members, every field at its maximum in 4-byte
// letters, sealed, with idempotency keys and the most reasons):
//
//	what                                  measured     limit     share
//	referral item (REF#<id>/A)            45.8 KB      400 KB    11%
//	idempotency item (its sealed answer)  45.8 KB      400 KB    11%
//	any other item                        0.3 KB       400 KB    0.1%
//	largest transaction, actions          7 (create)   100       7%
//	largest transaction, bytes            92.1 KB      4 MB      2.2%
//	history of 500 events, data read      167.1 KB     1 MB/page 16% (it pages anyway)
//
// The API's 64 KB body bound (shared/referral.MaxBodyBytes; the largest
// referral is 44.6 KB of it) keeps a referral's items far from 400 KB;
// a new field or a history kept in the referral item would change that,
// and the test would show it.
//
// # Sharding the counter
//
// One item sustains about 1,000 WCU/s, about 500 transactions/s since each
// transactional write costs 2 WCU. Haven's streams allocate a few hundred
// persons a year, so one period item is ample. If a pathway ever took
// thousands of submissions a second (IRCC's 2019 parents-and-grandparents
// form: 27,000 places in ~10 minutes), the period would be split into N
// shard items PERIOD#<s>#<y>#<k>, each holding capacity/N of the remaining
// spaces; an allocation picks a shard at random and conditions on that
// shard's remaining, falling over to the next on failure; a rebalancer moves
// spare capacity between shards; reads sum the shards. The invariant
// (sum of remaining ≥ 0) still holds because each shard's does. Intake
// (create) touches no counter, so it already scales by partition.
//
// Allotments shard naturally: a partner with an allotment only ever
// conditions on its own left#<p>, so its counter could live in its own item
// PERIOD#<s>#<y>#P#<p> (and the pool in PERIOD#<s>#<y>#POOL) with the
// stream's remaining checked only when allotments do not sum to the
// capacity; today they share the period item because one transaction on
// one item is cheaper and the rates are small. A capacity or allotment
// change would then write every shard in one transaction (≤ 100 items).
package dynamostore
