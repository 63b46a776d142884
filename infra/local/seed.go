package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/haven-hrd/haven/shared/dynamostore"
	"github.com/haven-hrd/haven/shared/problem"
	"github.com/haven-hrd/haven/shared/quota"
)

type seedFile struct {
	Streams []struct {
		ID       string         `yaml:"id"`
		Name     string         `yaml:"name"`
		Open     bool           `yaml:"open"`
		Partners []string       `yaml:"partners"`
		Periods  map[string]int `yaml:"periods"`
		// RetentionDays is the stream's retention schedule
		// (shared/retention): days kept after a referral ended and after
		// arrival; a period left out keeps those referrals.
		RetentionDays struct {
			Ended   *int `yaml:"ended"`
			Arrived *int `yaml:"arrived"`
		} `yaml:"retention_days"`
	} `yaml:"streams"`
}

// seed writes the seed file's streams and creates their periods when
// missing; existing periods keep their counters and capacity.
func seed(ctx context.Context, st *dynamostore.Store, path string, now time.Time) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var f seedFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range f.Streams {
		if err := st.PutStream(ctx, dynamostore.Stream{
			ID: s.ID, Name: s.Name, Open: s.Open, Partners: s.Partners,
			RetentionEndedDays: s.RetentionDays.Ended, RetentionArrivedDays: s.RetentionDays.Arrived,
		}); err != nil {
			return fmt.Errorf("seed stream %s: %w", s.ID, err)
		}
		for y, capacity := range s.Periods {
			year := quota.YearOf(now)
			if y != "current" {
				if year, err = strconv.Atoi(y); err != nil {
					return fmt.Errorf("seed stream %s: period %q is not a year", s.ID, y)
				}
			}
			if _, err := st.GetPeriod(ctx, s.ID, year); err == nil {
				continue
			} else if problem.KindOf(err) != problem.NotFound {
				return err
			}
			change := dynamostore.CapacityChange{Stream: s.ID, Year: year, Capacity: capacity, ActorRole: "seed", Actor: "seed", Nonce: "seed"}
			noIdem := func(quota.Period) (dynamostore.Idem, error) { return nil, nil }
			if _, _, err := st.SetCapacity(ctx, change, noIdem, now); err != nil {
				return fmt.Errorf("seed period %s/%d: %w", s.ID, year, err)
			}
		}
	}
	return nil
}
