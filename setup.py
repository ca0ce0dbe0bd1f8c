# Metadata, dependencies and tool settings live in setup.cfg.
from setuptools import setup

if __name__ == '__main__':
    setup()
