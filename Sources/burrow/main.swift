import BurrowCLI

await BurrowCommand.main()
