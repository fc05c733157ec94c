"""Another module calling the decorated function as a plain function."""

from job import main

if __name__ == "__main__":
    main(param=3, save_dir="results/programmatic")
