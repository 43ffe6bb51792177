from taar_update_whitelist.cli import main

if __name__ == "__main__":
    main()
