package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/haven-hrd/haven/shared/clock"
)

func main() {
	var cfg Config
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:3000", "address of the API and the form")
	flag.StringVar(&cfg.DynamoDBAddr, "dynamodb-addr", "127.0.0.1:8000", "address of the embedded DynamoDB API")
	flag.StringVar(&cfg.S3Addr, "s3-addr", "127.0.0.1:9000", "address of the embedded S3 API")
	flag.StringVar(&cfg.DataDir, "data", ".haven", "directory kept across restarts (tables, objects, local keys)")
	flag.StringVar(&cfg.DynamoDBEndpoint, "dynamodb-endpoint", "", "use this DynamoDB endpoint instead of the embedded server")
	flag.StringVar(&cfg.S3Endpoint, "s3-endpoint", "", "use this S3 endpoint instead of the embedded server")
	flag.StringVar(&cfg.Template, "template", "template.yaml", "the SAM template")
	flag.StringVar(&cfg.Seed, "seed", "infra/local/seed.yaml", "streams and partners to seed (empty: none)")
	flag.BoolVar(&cfg.ListenAnywhere, "listen-anywhere", false, "allow addresses other than loopback (the runner hands out tokens to anyone who can reach it)")
	start := flag.String("clock", "", `start the functions' clock at this time instead of now, to try a date by hand: "2026-12-31T23:59 America/Toronto", "2027-01-15", RFC 3339`)
	flag.Parse()
	if *start != "" {
		t, err := clock.Parse(*start)
		if err != nil {
			fmt.Fprintln(os.Stderr, "haven local: -clock:", err)
			os.Exit(2)
		}
		cfg.Now = clock.From(t)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := Start(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "haven local:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, `Haven is running locally.
  API:       %s
  Form:      %s/
  Officers:  %s/officer
  DynamoDB:  %s   (aws dynamodb scan --table-name HavenTable --endpoint-url %s)
  S3:        %s   (aws s3 ls s3://reportsbucket --endpoint-url %s)
  Data:      %s   (kept across restarts; delete it to start afresh)
Get a token:  curl -s -X POST %s/_local/tokens -H 'Content-Type: application/json' -d '{"role":"partner","partner":"front-line-defenders"}'
              (/_local/* answers only a loopback Host and Content-Type: application/json)
Stop with Ctrl-C.
`, r.URL, r.URL, r.URL, r.DynamoDBURL, r.DynamoDBURL, r.S3URL, r.S3URL, cfg.DataDir, r.URL)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "stopping: saving data…")
	if err := r.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "haven local:", err)
		os.Exit(1)
	}
}
