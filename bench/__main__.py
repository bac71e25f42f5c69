"""``make bench``: every benchmark, one after the other, each printing what it measures."""

from bench import nlu


def main() -> None:
    nlu.main()


if __name__ == "__main__":
    main()
