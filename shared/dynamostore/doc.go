// Package dynamostore is Haven's DynamoDB adapter: item shapes, keys,
// conditional writes and transactions. It is the only place that knows the
// table's layout. Quota is enforced here and only here, by conditions that
// DynamoDB checks atomically: there is no other lock.
//
// # Entities (one table, key pk/sk)
//
//	entity            pk                         sk                          notes
//	referral          REF#<id>                   A                           gsi1 PARTNER#<p> / <created>#<id>; gsi2 REFS / <created>#<id>;
//	                                                                         names, birth dates, asylum country, profile, contact sealed (AES-GCM, AAD = id + attribute)
//	audit event       REF#<id>                   EV#<at>#<nonce>             state changes, no personal data
//	read audit        REF#<id>                   READ#<at>#<nonce>           who read the full referral
//	partner ref       PREF#<partner>#<ref>       A                           makes partner_reference unique per partner
//	fingerprint       FP#<keyed hash>            REF#<id>                    same defender referred twice (officers only)
//	stream            STREAM#<stream>            A                           open flag, partner list
//	period            PERIOD#<stream>#<year>     A                           capacity, reserved, arrived, remaining, waitlisted_persons,
//	                                                                         reserved#<partner>, arrived#<partner> (flat: real DynamoDB
//	                                                                         cannot create a nested map and set a key in one update); version
//	                                                                         (+1 on every update); gsi1 PERIODS / <stream>#<year>
//	capacity change   PERIOD#<stream>#<year>     EV#<at>#<nonce>             who changed capacity, from and to
//	waitlist entry    WAIT#<stream>#<year>       <rank>#<created>#<id>       rank: 0 emergency, 1 urgent, 2 normal; created fixed-width
//	                                                                         (sorts as time); referral_id, partner, persons (kept equal to the
//	                                                                         referral's in the same transaction); no personal data
//	idempotency       IDEM#<caller>#<key>        A                           hash, response; expires_at (TTL, also checked in conditions)
//
// # Access patterns
//
//	pattern                                   how                                                     calls
//	create referral                           TransactWriteItems: idem, stream check, PREF, REF, EV, FP   1 write
//	get referral (own partner or staff)       GetItem REF#<id>/A; partner compared in code → 404          1 read
//	list a partner's referrals                Query gsi1 PARTNER#<p>, newest first                     1+ reads
//	list all referrals (staff)                Query gsi2 REFS, newest first; status/stream filtered in code  1+ reads
//	history                                   Query REF#<id>, sk begins_with EV#                       1 read
//	duplicate-referral                        condition on PREF#; on failure GetItem PREF# for the id   1 write (+1 read on conflict)
//	possible duplicates                       Query FP#<hash>                                          1 read
//	period view                               GetItem PERIOD#<s>#<y>/A                                 1 read
//	set capacity                              TransactWriteItems: idem, stream check, period (version + remaining ≥ lowering), EV   1 read + 1 write
//	state change (lifecycle.go)               GetItem REF (consistent), then TransactWriteItems: idem, REF (status = from AND version = v),
//	                                          period (remaining ≥ taken; reserved/arrived/remaining/waitlisted_persons, reserved#<p>/arrived#<p>
//	                                          via if_not_exists, version + 1), WAIT put/delete, EV   1 read + 1 write
//	allocation that does not fit              the same, with period condition remaining < persons (still full) and WAIT put   +1 write
//	family change                             as state change; REF re-sealed pii_people + persons; WAIT persons; quota-exhausted on period   1 read + 1 write
//	promote waitlist (after a release, sweep) GetItem period; Query WAIT#<s>#<y>; per pick TransactWriteItems: period (remaining ≥ n),
//	                                          REF (status waitlisted AND persons = n AND period = y), WAIT delete, EV   2 reads + 1 write each
//	list periods (sweep, reports)             Query gsi1 PERIODS (gsi1sk <stream>#<year>)                1+ reads
//	waitlist in order                         Query WAIT#<s>#<y> ascending                             1+ reads
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
//	largest transaction, actions          6 (create)   100       6%
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
package dynamostore
