from taar_amowhitelist.cli import main

if __name__ == "__main__":
    main()
