from naga import clicfg, unsafe_debug


class Config:
    param = 7


def process(cfg):
    pass


@unsafe_debug
@clicfg(config_class=Config)
def main(cfg: Config):
    a = 0
    b = 1 / a  # This will raise an exception
    process(cfg)


if __name__ == "__main__":
    main()

# The README's unsafe_debug example, verbatim: tests/debug copies it to process.py and
# asserts line numbers in it.
