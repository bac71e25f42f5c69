"""``make bench``: every benchmark, one after the other, each printing what it measures."""

from bench import growth, nlu, postgres, reminders, startup, throughput, webhook


def main() -> None:
    print("== Language understanding (bench.nlu) ==")
    nlu.main()
    print("\n== Reminder sweep over 1,000,000 appointments (bench.reminders) ==")
    reminders.main()
    print("\n== The whole bot over HTTP against the simulator (bench.throughput) ==")
    throughput.main()
    print("\n== Webhook mode beside polling (bench.webhook) ==")
    webhook.main()
    print("\n== A million appointments and 500 businesses (bench.growth) ==")
    growth.main()
    print("\n== PostgreSQL: bookings from several workers, search at 1,000,000 (bench.postgres) ==")
    postgres.main()
    print("\n== Start-up and the week image (bench.startup) ==")
    startup.main()


if __name__ == "__main__":
    main()
